// Turns checkpoint tensors into the weight matrices a model uses, quantizing float tensors at
// load into the types the quantization choice gives them (QuantizationMix). Tensors a GGUF file
// already holds quantized are used as they are, GPTQ / AWQ layers rewritten into blocks.
import TernFormats
import TernOps

public struct LoadOptions: Sendable {
    public var quantization: Quantization = .none
    /// Compute threads; nil uses every physical core.
    public var threads: Int?
    public var kvCache: KVCacheSetting

    public init(quantization: Quantization = .none, threads: Int? = nil, kvCache: KVCacheSetting = .standard) {
        self.quantization = quantization
        self.threads = threads
        self.kvCache = kvCache
    }
}

public struct WeightLoader {
    let checkpoint: WeightSource
    let config: ModelConfig
    let compute: Compute
    let mix: QuantizationMix
    /// Linear layers of a GPTQ / AWQ checkpoint, read from their packed integers.
    let packed: PackedLinear?

    public init(checkpoint: WeightSource, config: ModelConfig, options: LoadOptions, compute: Compute, packing: PackedQuantization? = nil) {
        self.checkpoint = checkpoint
        self.config = config
        self.compute = compute
        mix = QuantizationMix(quantization: options.quantization, config: config)
        packed = packing.map { PackedLinear(packing: $0, checkpoint: checkpoint, compute: compute) }
    }

    /// Whether the LM head is the embedding matrix itself: tied, and no separate lm_head stored.
    var lmHeadIsEmbedding: Bool {
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

    /// A linear layer's weight in the type the quantization choice gives it, in the file layout;
    /// `role` overrides the one its name gives (a part of a tensor a file keeps fused).
    func linearRows(_ name: String, shape: [Int], role override: TensorRole? = nil) throws -> WeightMatrix {
        let prefix = String(name.dropLast(".weight".count))
        if let packed, packed.isPacked(prefix) { return try packed.load(prefix, outputs: shape[0], inputs: shape[1]) }
        let (role, layer) = TensorRole.linear(name) ?? (.otherLinear, 0)
        return try quantized(name, shape: shape, role: override ?? role, layer: layer)
    }

    /// Embedding ("model.embed_tokens.weight") and LM head ("lm_head.weight"). The LM head is read in
    /// full for every token, so its type matters for speed as much as the layers'.
    public func embeddingRows(_ name: String, shape: [Int]) throws -> WeightMatrix {
        let role: TensorRole = name == "lm_head.weight" ? .output : .tokenEmbedding(tiedToOutput: lmHeadIsEmbedding)
        return try quantized(name, shape: shape, role: role, layer: 0)
    }

    private func quantized(_ name: String, shape: [Int], role: TensorRole, layer: Int) throws -> WeightMatrix {
        var weight = try WeightMatrix(try checkpoint.tensor(name), expectedShape: shape)
        let storedType = weight.type
        // Baichuan2's NormHead: the stored rows are not normalised, the model divides each by its L2 norm.
        if role == .output, config.normalizedHead { weight = weight.normalizedRows(compute: compute) }
        // A quantized head goes back to its own type once normalised; float ones follow the mix.
        let target = mix.type(of: role, layer: layer, columns: weight.columns) ?? (storedType.isQuantized ? storedType : nil)
        guard let target, weight.canQuantize(to: target) else { return weight }
        return weight.quantizedRows(to: target, compute: compute)
    }
}
