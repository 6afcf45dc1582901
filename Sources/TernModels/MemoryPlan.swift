// The memory a model needs to serve, worked out from its configuration and tensor headers alone
// (no weights read, so it can size a machine before loading): the weights in the types they will
// have after --quantization, the KV cache for the context and sequences asked for, activations,
// and the runtime; and how much memory this process may use (RAM, or its cgroup's limit).
import Foundation
import TernFormats
import TernOps

public struct MemoryPlan: Sendable {
    public let weightBytes: Int
    public let kvCacheType: KVCacheType
    public let kvBytesPerToken: Int
    public let kvBytes: Int
    public let activationBytes: Int
    /// The process without model: code, threads' stacks, the HTTP server, the tokenizer's tables,
    /// allocator slack. `tern serve` of a Qwen2.5 shape (152K-token vocabulary) resides 128 MiB
    /// above its weights after load (BENCHMARKS.md, 7B section).
    public static let runtimeBytes = 150 << 20

    public var totalBytes: Int { weightBytes + kvBytes + activationBytes + Self.runtimeBytes }

    /// What the plan needs of a stored tensor.
    public struct Tensor: Sendable {
        let name: String
        let shape: [Int]
        let dtype: TensorDType
        let byteCount: Int

        init(_ view: TensorView) {
            name = view.name
            shape = view.shape
            dtype = view.dtype
            byteCount = view.byteCount
        }

        init(name: String, shape: [Int], dtype: TensorDType) {
            self.name = name
            self.shape = shape
            self.dtype = dtype
            byteCount = shape.reduce(1, *) * dtype.blockBytes
        }
    }

    /// The tensors a LLaMA-shaped checkpoint of this configuration holds, for a folder with
    /// config.json alone (sizing before the download).
    static func tensors(of config: ModelConfig) -> [Tensor] {
        let dtype: TensorDType = config.torchDType == "float32" ? .f32 : config.torchDType == "float16" ? .f16 : .bf16
        let h = config.hiddenSize, q = config.numAttentionHeads * config.headDim, kv = config.numKeyValueHeads * config.headDim
        let ff = config.intermediateSize
        var tensors = [Tensor(name: "model.embed_tokens.weight", shape: [config.vocabSize, h], dtype: dtype)]
        for layer in 0..<config.numHiddenLayers {
            for (part, shape) in [("q_proj", [q, h]), ("k_proj", [kv, h]), ("v_proj", [kv, h]), ("o_proj", [h, q]),
                                  ("gate_proj", [ff, h]), ("up_proj", [ff, h]), ("down_proj", [h, ff])] {
                tensors.append(Tensor(name: "model.layers.\(layer).\(part).weight", shape: shape, dtype: dtype))
            }
            tensors.append(Tensor(name: "model.layers.\(layer).norms", shape: [2 * h], dtype: dtype))
        }
        if !config.tieWordEmbeddings { tensors.append(Tensor(name: "lm_head.weight", shape: [config.vocabSize, h], dtype: dtype)) }
        return tensors
    }

    /// `contextTokens` per sequence, `sequences` at once, `batchTokens` per forward pass.
    public init(config: ModelConfig, tensors: [Tensor], quantization: Quantization, kvCache: KVCacheSetting, contextTokens: Int, sequences: Int,
                batchTokens: Int) {
        let mix = QuantizationMix(quantization: quantization, config: config)
        let tied = !tensors.contains { ["lm_head.weight", "output.weight", "transformer.output_layer.weight"].contains($0.name) }
        weightBytes = tensors.reduce(0) { total, tensor in
            guard tensor.shape.count == 2, TensorDType.floatTypes.contains(tensor.dtype),
                  let type = mix.type(of: Self.role(of: tensor.name, tied: tied), columns: tensor.shape[1]) else {
                return total + tensor.byteCount
            }
            return total + tensor.shape[0] * type.rowBytes(columns: tensor.shape[1])
        }
        kvCacheType = kvCache.resolved(for: config)
        kvBytesPerToken = PagedKVCache.bytesPerBlock(layers: config.numHiddenLayers, blockSize: 1, kvHeads: config.numKeyValueHeads,
                                                     headDim: config.headDim, type: kvCacheType)
        kvBytes = kvBytesPerToken * contextTokens * sequences
        let qDim = config.numAttentionHeads * config.headDim, kvDim = config.numKeyValueHeads * config.headDim
        let perToken = 3 * config.hiddenSize + 2 * qDim + 2 * kvDim + 2 * config.intermediateSize
        activationBytes = 4 * (batchTokens * perToken + sequences * config.vocabSize)
    }

    /// Embedding and LM head by their names in any family's files; every other matrix as the bulk.
    static func role(of name: String, tied: Bool) -> TensorRole {
        if name.contains("embed") || name.hasPrefix("token_embd") || name == "transformer.wte.weight" { return .tokenEmbedding(tiedToOutput: tied) }
        if ["lm_head.weight", "output.weight", "transformer.output_layer.weight"].contains(name) { return .output }
        return .otherLinear
    }

    /// The plan of a model folder or GGUF file.
    public static func of(path: URL, quantization: Quantization, kvCache: KVCacheSetting, contextTokens: Int?, sequences: Int,
                          batchTokens: Int) throws -> MemoryPlan {
        let config: ModelConfig
        let tensors: [Tensor]
        if path.pathExtension.lowercased() == "gguf" {
            let file = try GGUFFile(path: path.path)
            config = try ModelConfig(gguf: file)
            tensors = file.tensors.values.map(Tensor.init)
        } else {
            config = try ModelConfig.load(directory: path)
            // Without weight files yet, the configuration's shapes.
            tensors = (try? CheckpointFolder(directory: path))?.tensors.values.map(Tensor.init) ?? Self.tensors(of: config)
        }
        return MemoryPlan(config: config, tensors: tensors, quantization: quantization, kvCache: kvCache,
                          contextTokens: contextTokens ?? min(config.maxPositionEmbeddings, 4096), sequences: sequences, batchTokens: batchTokens)
    }
}

/// How much memory this process may use: the machine's RAM, or less where a cgroup (a container's
/// memory limit) says so.
public enum MemoryLimit {
    public static func usable(cgroupRoot: String = "/sys/fs/cgroup") -> (bytes: Int, source: String) {
        let physical = Int(ProcessInfo.processInfo.physicalMemory)
        for file in ["memory.max", "memory/memory.limit_in_bytes"] {
            guard let text = try? String(contentsOfFile: "\(cgroupRoot)/\(file)", encoding: .utf8),
                  let limit = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)), limit < physical else { continue }
            return (limit, "the cgroup memory limit (\(cgroupRoot)/\(file))")
        }
        return (physical, "the machine's RAM")
    }
}
