// Turns checkpoint tensors into the weight matrices a model uses, quantizing them at load as
// the options ask: linear layers to the chosen type, embedding and LM head to Q8_0. Tensors a
// GGUF file already holds quantized are used as they are, GPTQ / AWQ layers rewritten into blocks.
import TernFormats
import TernOps

public enum Quantization: String, Sendable, CaseIterable {
    case none, q8_0, q4_0, q4_k

    var weightType: WeightType? {
        switch self {
        case .none: return nil
        case .q8_0: return .q8_0
        case .q4_0: return .q4_0
        case .q4_k: return .q4_k
        }
    }
}

public struct LoadOptions: Sendable {
    public var quantization: Quantization = .none
    /// Compute threads; nil uses every physical core.
    public var threads: Int?

    public init(quantization: Quantization = .none, threads: Int? = nil) {
        self.quantization = quantization
        self.threads = threads
    }
}

public struct WeightLoader {
    let checkpoint: WeightSource
    let options: LoadOptions
    let compute: Compute
    /// Linear layers of a GPTQ / AWQ checkpoint, read from their packed integers.
    let packed: PackedLinear?

    public init(checkpoint: WeightSource, options: LoadOptions, compute: Compute, packing: PackedQuantization? = nil) {
        self.checkpoint = checkpoint
        self.options = options
        self.compute = compute
        packed = packing.map { PackedLinear(packing: $0, checkpoint: checkpoint, compute: compute) }
    }

    /// Whether the LM head is the embedding matrix itself: tied, and no separate lm_head stored.
    func lmHeadIsEmbedding(_ config: ModelConfig) -> Bool {
        config.tieWordEmbeddings && !checkpoint.contains("lm_head.weight")
    }

    /// A linear layer's weight as the kernels read it fastest.
    func linear(_ name: String, shape: [Int]) throws -> WeightMatrix {
        try linearRows(name, shape: shape).interleavedForSpeed(compute: compute)
    }

    /// An embedding or LM head matrix as the kernels read it fastest.
    func embedding(_ name: String, shape: [Int]) throws -> WeightMatrix {
        try embeddingRows(name, shape: shape).interleavedForSpeed(compute: compute)
    }

    /// A linear layer's weight in the requested type, in the file layout. Q4_K needs rows of whole
    /// 256-weight super-blocks; other rows fall back to Q4_0, which has the same bits per weight at 32.
    public func linearRows(_ name: String, shape: [Int]) throws -> WeightMatrix {
        let prefix = String(name.dropLast(".weight".count))
        if let packed, packed.isPacked(prefix) { return try packed.load(prefix, outputs: shape[0], inputs: shape[1]) }
        let weight = try WeightMatrix(try checkpoint.tensor(name), expectedShape: shape)
        guard let target = options.quantization.weightType else { return weight }
        if weight.canQuantize(to: target) { return weight.quantizedRows(to: target, compute: compute) }
        if target == .q4_k, weight.canQuantize(to: .q4_0) { return weight.quantizedRows(to: .q4_0, compute: compute) }
        return weight
    }

    /// Embedding and LM head: Q8_0 whenever the model is quantized at all. The LM head is read
    /// in full for every token, so it matters for speed as much as the layers; 8 bits keep the
    /// output distribution close to the original.
    public func embeddingRows(_ name: String, shape: [Int]) throws -> WeightMatrix {
        let weight = try WeightMatrix(try checkpoint.tensor(name), expectedShape: shape)
        guard options.quantization != .none, weight.canQuantize(to: .q8_0) else { return weight }
        return weight.quantizedRows(to: .q8_0, compute: compute)
    }
}
