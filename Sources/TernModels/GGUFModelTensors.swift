// The tensors of a checkpoint folder as a GGUF file holds them: llama.cpp's names and q/k row
// order, linear layers in the chosen type, embedding and LM head as the loader keeps them (Baichuan2's
// head normalised), norms and biases in f32, LLaMA-3 rotary scaling as the rope_freqs factors, and
// for ChatGLM and Qwen-1 the fused tensors llama.cpp's graphs read (attn_qkv, ChatGLM's gate+up ffn_up).
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
        for entry in Self.entries(config, withLMHead: !loader.lmHeadIsEmbedding) {
            var parts: [(bytes: () -> [UInt8], rows: Int, type: TensorDType)] = []
            var columns: [Int] = []
            for name in entry.parts {
                let view = try checkpoint.tensor(name)
                let order = Self.rowOrder(of: name, config: config)
                columns = Array(view.shape.dropFirst())
                switch entry.role {
                case .vector:
                    let values = try loadVector(view, length: view.elementCount)
                    parts.append(({ order(values.withUnsafeBytes { Array($0) }, values.count) }, values.count, .f32))
                case .linear, .embedding:
                    let matrix = entry.role == .embedding ? try loader.embeddingRows(name, shape: view.shape)
                        : try loader.linearRows(name, shape: view.shape, role: entry.parts.count > 1 ? entry.fusedRole : nil)
                    guard let dtype = matrix.type.fileType else { throw FormatError("tensor '\(name)' is \(matrix.type.name), which GGUF has no type for") }
                    parts.append(({ order(matrix.fileBytes(), matrix.rows) }, matrix.rows, dtype))
                }
            }
            guard let dtype = parts.first?.type, parts.allSatisfy({ $0.type == dtype }) else {
                throw FormatError("the parts of \(entry.gguf) came out in different types")
            }
            plans.append(GGUFTensorPlan(name: entry.gguf, shape: [parts.reduce(0) { $0 + $1.rows }] + columns, dtype: dtype))
            contents.append { parts.flatMap { $0.bytes() } }
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

    /// One GGUF tensor: its name, the (LLaMA-named) tensors whose rows it stacks, and for a fused
    /// matrix the role llama.cpp's mixes give the whole (its parts must share one type).
    private struct Entry {
        let gguf: String
        let parts: [String]
        let role: Role
        var fusedRole: TensorRole? = nil
    }

    /// Every tensor the model reads, in the order llama.cpp's converter writes them.
    private static func entries(_ config: ModelConfig, withLMHead: Bool) -> [Entry] {
        func single(_ name: String, _ role: Role) -> Entry { Entry(gguf: GGUFTensorNames.gguf(name)!, parts: [name], role: role) }
        let fusedQKV = [.chatglm, .qwen].contains(config.family), fusedGateUp = config.family == .chatglm
        var entries = [single("model.embed_tokens.weight", .embedding)]
        for layer in 0..<config.numHiddenLayers {
            let p = "model.layers.\(layer)"
            entries.append(single("\(p).input_layernorm.weight", .vector))
            let qkv = ["q_proj", "k_proj", "v_proj"].map { "\(p).self_attn.\($0)" }
            if fusedQKV {
                entries.append(Entry(gguf: "blk.\(layer).attn_qkv.weight", parts: qkv.map { "\($0).weight" }, role: .linear, fusedRole: .attentionQKV))
                if config.qkvBias { entries.append(Entry(gguf: "blk.\(layer).attn_qkv.bias", parts: qkv.map { "\($0).bias" }, role: .vector)) }
            } else {
                for part in qkv {
                    entries.append(single("\(part).weight", .linear))
                    if config.qkvBias { entries.append(single("\(part).bias", .vector)) }
                }
            }
            entries.append(single("\(p).self_attn.o_proj.weight", .linear))
            if config.outputBias { entries.append(single("\(p).self_attn.o_proj.bias", .vector)) }
            entries.append(single("\(p).post_attention_layernorm.weight", .vector))
            let gateUp = ["gate_proj", "up_proj"].map { "\(p).mlp.\($0)" }
            if fusedGateUp {
                entries.append(Entry(gguf: "blk.\(layer).ffn_up.weight", parts: gateUp.map { "\($0).weight" }, role: .linear, fusedRole: .ffnUp))
                if config.mlpBias { entries.append(Entry(gguf: "blk.\(layer).ffn_up.bias", parts: gateUp.map { "\($0).bias" }, role: .vector)) }
            }
            for part in (fusedGateUp ? [] : gateUp) + ["\(p).mlp.down_proj"] {
                entries.append(single("\(part).weight", .linear))
                if config.mlpBias { entries.append(single("\(part).bias", .vector)) }
            }
        }
        entries.append(single("model.norm.weight", .vector))
        if withLMHead { entries.append(single("lm_head.weight", .embedding)) }
        return entries
    }

    /// How a tensor's rows are re-ordered on the way into the file: LLaMA's and Baichuan's q/k rows
    /// into llama.cpp's adjacent pairs, ChatGLM's rotary rows back into its own adjacent pairs.
    private static func rowOrder(of name: String, config: ModelConfig) -> ([UInt8], Int) -> [UInt8] {
        let full = GGUFTensorNames.rotaryHeads(of: name, config: config)
        let heads = full ?? (config.rotaryAdjacentPairs ? (name.contains(".self_attn.q_proj.") ? config.numAttentionHeads
            : name.contains(".self_attn.k_proj.") ? config.numKeyValueHeads : nil) : nil)
        guard let heads else { return { bytes, _ in bytes } }
        let rotaryRows = full == nil ? config.rotaryDimensions : nil
        return { bytes, rows in
            var reordered = bytes
            bytes.withUnsafeBytes { source in
                reordered.withUnsafeMutableBytes { target in
                    GGUFTensorNames.reorderRotaryRows(source.baseAddress!, into: target.baseAddress!, rows: rows, byteCount: bytes.count,
                                                      heads: heads, rotaryRows: rotaryRows, toGGUF: true)
                }
            }
            return reordered
        }
    }
}
