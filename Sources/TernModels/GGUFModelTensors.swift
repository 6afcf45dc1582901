// The tensors of a safetensors model as a GGUF file holds them: llama.cpp's names and q/k row
// order, linear layers in the chosen type, embedding and LM head as the loader keeps them, norms
// and biases in f32, and LLaMA-3 rotary scaling as the rope_freqs factors.
import Foundation
import TernFormats
import TernOps

public struct GGUFModelTensors {
    public let config: ModelConfig
    public let plans: [GGUFTensorPlan]
    private let contents: [() -> [UInt8]]

    /// Loads and quantizes every tensor of the folder's model now; bytes are made per tensor when asked.
    public init(directory: URL, options: LoadOptions) throws {
        config = try ModelConfig.load(directory: directory)
        let checkpoint = try FamilyWeights.folder(directory, config: config)
        let loader = WeightLoader(checkpoint: checkpoint, config: config, options: options, compute: Compute(threads: options.threads))
        var plans: [GGUFTensorPlan] = [], contents: [() -> [UInt8]] = []
        for (name, role) in Self.tensorNames(config, withLMHead: !loader.lmHeadIsEmbedding) {
            let view = try checkpoint.tensor(name)
            let rotaryHeads = GGUFTensorNames.rotaryHeads(of: name, config: config)
            let matrix: WeightMatrix
            switch role {
            case .vector:
                let values = try loadVector(view, length: view.elementCount)
                plans.append(GGUFTensorPlan(name: GGUFTensorNames.gguf(name)!, shape: view.shape, dtype: .f32))
                contents.append { Self.rowOrder(values.withUnsafeBytes { Array($0) }, rows: values.count, rotaryHeads: rotaryHeads) }
                continue
            case .linear: matrix = try loader.linearRows(name, shape: view.shape)
            case .embedding: matrix = try loader.embeddingRows(name, shape: view.shape)
            }
            guard let dtype = matrix.type.fileType else { throw FormatError("tensor '\(name)' is \(matrix.type.name), which GGUF has no type for") }
            plans.append(GGUFTensorPlan(name: GGUFTensorNames.gguf(name)!, shape: view.shape, dtype: dtype))
            contents.append { Self.rowOrder(matrix.fileBytes(), rows: matrix.rows, rotaryHeads: rotaryHeads) }
        }
        if config.ropeScaling.kind == .llama3 {
            let scaled = RotaryEmbedding(headDim: config.headDim, theta: config.ropeTheta, scaling: config.ropeScaling)
            let plain = RotaryEmbedding(headDim: config.headDim, theta: config.ropeTheta, scaling: RopeScaling())
            let factors = zip(plain.inverseFrequencies, scaled.inverseFrequencies).map { $0 / $1 }
            plans.append(GGUFTensorPlan(name: "rope_freqs.weight", shape: [factors.count], dtype: .f32))
            contents.append { factors.withUnsafeBytes { Array($0) } }
        }
        self.plans = plans
        self.contents = contents
    }

    public func bytes(_ index: Int) -> [UInt8] { contents[index]() }

    private enum Role { case embedding, linear, vector }

    /// Every tensor the model reads, in the order llama.cpp's converter writes them.
    private static func tensorNames(_ config: ModelConfig, withLMHead: Bool) -> [(String, Role)] {
        var names: [(String, Role)] = [("model.embed_tokens.weight", .embedding)]
        for layer in 0..<config.numHiddenLayers {
            let p = "model.layers.\(layer)"
            names.append(("\(p).input_layernorm.weight", .vector))
            for part in ["q_proj", "k_proj", "v_proj", "o_proj"] {
                names.append(("\(p).self_attn.\(part).weight", .linear))
                let biased = part == "o_proj" ? config.outputBias : config.qkvBias
                if biased { names.append(("\(p).self_attn.\(part).bias", .vector)) }
            }
            names.append(("\(p).post_attention_layernorm.weight", .vector))
            for part in ["gate_proj", "up_proj", "down_proj"] {
                names.append(("\(p).mlp.\(part).weight", .linear))
                if config.mlpBias { names.append(("\(p).mlp.\(part).bias", .vector)) }
            }
        }
        names.append(("model.norm.weight", .vector))
        if withLMHead { names.append(("lm_head.weight", .embedding)) }
        return names
    }

    private static func rowOrder(_ bytes: [UInt8], rows: Int, rotaryHeads: Int?) -> [UInt8] {
        guard let rotaryHeads else { return bytes }
        var reordered = bytes
        bytes.withUnsafeBytes { source in
            reordered.withUnsafeMutableBytes { target in
                GGUFTensorNames.reorderRotaryRows(source.baseAddress!, into: target.baseAddress!, rows: rows, byteCount: bytes.count,
                                                  heads: rotaryHeads, toGGUF: true)
            }
        }
        return reordered
    }
}
