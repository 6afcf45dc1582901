// The checkpoints of the remote-code families seen under LLaMA's tensor names, so one decoder
// loads them all: names mapped, fused projections cut into their parts (a view of the stored
// rows, no copy) and ChatGLM's adjacent-pair rotary rows re-ordered into halves.
import Foundation
import TernFormats
import TernOps

/// Where a tensor asked for by its LLaMA name is stored: a name and, for a fused projection, its rows.
struct StoredSlice: Equatable {
    let name: String
    var rows: Range<Int>? = nil
}

public struct FamilyWeights: WeightSource {
    /// Tensors under their stored names (a safetensors or .bin checkpoint, or a GGUF file).
    let stored: WeightSource
    let config: ModelConfig
    let naming: TensorNaming

    public enum TensorNaming: Sendable { case huggingFace, gguf }

    /// A folder's checkpoint under LLaMA names.
    public static func folder(_ directory: URL, config: ModelConfig) throws -> WeightSource {
        FamilyWeights(stored: try CheckpointWeights(directory: directory), config: config, naming: .huggingFace)
    }

    public init(stored: WeightSource, config: ModelConfig, naming: TensorNaming) {
        self.stored = stored
        self.config = config
        self.naming = naming
    }

    public func contains(_ name: String) -> Bool {
        guard let slice = locate(name) else { return false }
        return stored.contains(slice.name)
    }

    public func tensor(_ name: String) throws -> TensorView {
        guard let slice = locate(name) else { throw FormatError("no \(config.family.rawValue) tensor holds '\(name)'") }
        var view = try stored.tensor(slice.name)
        if let rows = slice.rows { view = try Self.rows(rows, of: view) }
        guard config.rotaryAdjacentPairs, let heads = rotaryHeads(name) else { return view }
        let buffer = OwnedBuffer(bytes: view.byteCount)
        GGUFTensorNames.reorderRotaryRows(view.data, into: buffer.pointer, rows: view.shape[0], byteCount: view.byteCount, heads: heads,
                                          rotaryRows: config.rotaryDimensions, toGGUF: false)
        return TensorView(name: view.name, dtype: view.dtype, shape: view.shape, data: buffer.pointer, byteCount: view.byteCount, owner: buffer)
    }

    private func rotaryHeads(_ name: String) -> Int? {
        if name.contains(".self_attn.q_proj.") { return config.numAttentionHeads }
        if name.contains(".self_attn.k_proj.") { return config.numKeyValueHeads }
        return nil
    }

    /// Rows `range` of a matrix or a vector (a fused bias), as a view into the same bytes.
    static func rows(_ range: Range<Int>, of view: TensorView) throws -> TensorView {
        guard let total = view.shape.first, range.upperBound <= total else {
            throw FormatError("tensor '\(view.name)' has shape \(view.shape); rows \(range) of it were expected")
        }
        let rowBytes = view.byteCount / total
        let shape = [range.count] + view.shape.dropFirst()
        return TensorView(name: view.name, dtype: view.dtype, shape: shape, data: view.data + range.lowerBound * rowBytes,
                          byteCount: range.count * rowBytes, owner: view.owner)
    }

    /// The stored tensor behind a LLaMA name, or nil for one the family does not have.
    func locate(_ name: String) -> StoredSlice? {
        let q = config.numAttentionHeads * config.headDim, kv = config.numKeyValueHeads * config.headDim, ff = config.intermediateSize
        let fused = ["q_proj": 0..<q, "k_proj": q..<(q + kv), "v_proj": (q + kv)..<(q + 2 * kv)]
        let table = naming == .gguf ? ggufNames : huggingFaceNames
        if let top = table.top[name] { return StoredSlice(name: top) }
        guard name.hasPrefix("model.layers.") else { return nil }
        let rest = name.dropFirst("model.layers.".count)
        guard let dot = rest.firstIndex(of: "."), let layer = Int(rest[..<dot]) else { return nil }
        let part = String(rest[rest.index(after: dot)...])
        guard let suffixDot = part.lastIndex(of: ".") else { return nil }
        let module = String(part[..<suffixDot]), suffix = String(part[suffixDot...])
        let prefix = table.layerPrefix.replacingOccurrences(of: "{N}", with: String(layer))
        if let stored = table.modules[module] { return StoredSlice(name: prefix + stored + suffix) }
        let projection = String(module.split(separator: ".").last ?? "")
        if module.hasPrefix("self_attn."), let rows = fused[projection], let qkv = table.fusedQKV {
            return StoredSlice(name: prefix + qkv + suffix, rows: rows)
        }
        if let gateUp = table.fusedGateUp, module == "mlp.gate_proj" || module == "mlp.up_proj" {
            return StoredSlice(name: prefix + gateUp + suffix, rows: module == "mlp.gate_proj" ? 0..<ff : ff..<(2 * ff))
        }
        return nil
    }

    /// One family's names: whole tensors, layer modules, and the fused ones cut by rows.
    struct NameTable {
        var top: [String: String]
        var layerPrefix: String
        var modules: [String: String]
        var fusedQKV: String?
        var fusedGateUp: String?
    }

    private var huggingFaceNames: NameTable {
        switch config.family {
        case .llama:
            return NameTable(top: ["model.embed_tokens.weight": "model.embed_tokens.weight", "model.norm.weight": "model.norm.weight",
                                   "lm_head.weight": "lm_head.weight"],
                             layerPrefix: "model.layers.{N}.", modules: Dictionary(uniqueKeysWithValues: Self.llamaModules.map { ($0, $0) }))
        case .chatglm:
            return NameTable(top: ["model.embed_tokens.weight": "transformer.embedding.word_embeddings.weight",
                                   "model.norm.weight": "transformer.encoder.final_layernorm.weight",
                                   "lm_head.weight": "transformer.output_layer.weight"],
                             layerPrefix: "transformer.encoder.layers.{N}.",
                             modules: ["input_layernorm": "input_layernorm", "post_attention_layernorm": "post_attention_layernorm",
                                       "self_attn.o_proj": "self_attention.dense", "mlp.down_proj": "mlp.dense_4h_to_h"],
                             fusedQKV: "self_attention.query_key_value", fusedGateUp: "mlp.dense_h_to_4h")
        case .baichuan:
            var modules = Dictionary(uniqueKeysWithValues: Self.llamaModules.map { ($0, $0) })
            for part in ["self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj"] { modules[part] = nil }
            return NameTable(top: ["model.embed_tokens.weight": "model.embed_tokens.weight", "model.norm.weight": "model.norm.weight",
                                   "lm_head.weight": "lm_head.weight"],
                             layerPrefix: "model.layers.{N}.", modules: modules, fusedQKV: "self_attn.W_pack")
        case .qwen:
            return NameTable(top: ["model.embed_tokens.weight": "transformer.wte.weight", "model.norm.weight": "transformer.ln_f.weight",
                                   "lm_head.weight": "lm_head.weight"],
                             layerPrefix: "transformer.h.{N}.",
                             modules: ["input_layernorm": "ln_1", "post_attention_layernorm": "ln_2", "self_attn.o_proj": "attn.c_proj",
                                       "mlp.gate_proj": "mlp.w2", "mlp.up_proj": "mlp.w1", "mlp.down_proj": "mlp.c_proj"],
                             fusedQKV: "attn.c_attn")
        }
    }

    /// llama.cpp's names for the families whose GGUF files keep projections fused.
    private var ggufNames: NameTable {
        var modules = ["input_layernorm": "attn_norm", "post_attention_layernorm": "ffn_norm", "self_attn.o_proj": "attn_output",
                       "mlp.down_proj": "ffn_down"]
        if config.family != .chatglm { modules["mlp.gate_proj"] = "ffn_gate"; modules["mlp.up_proj"] = "ffn_up" }
        return NameTable(top: ["model.embed_tokens.weight": "token_embd.weight", "model.norm.weight": "output_norm.weight",
                               "lm_head.weight": "output.weight"],
                         layerPrefix: "blk.{N}.", modules: modules, fusedQKV: "attn_qkv",
                         fusedGateUp: config.family == .chatglm ? "ffn_up" : nil)
    }

    private static let llamaModules = ["input_layernorm", "post_attention_layernorm", "self_attn.q_proj", "self_attn.k_proj",
                                       "self_attn.v_proj", "self_attn.o_proj", "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"]
}
