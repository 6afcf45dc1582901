// llama.cpp's tensor names for the LLaMA family, and its row order for rotary q/k projections.
import TernFormats

enum GGUFTensorNames {
    private static let layerParts = [
        ("self_attn.q_proj", "attn_q"), ("self_attn.k_proj", "attn_k"), ("self_attn.v_proj", "attn_v"),
        ("self_attn.o_proj", "attn_output"), ("mlp.gate_proj", "ffn_gate"), ("mlp.up_proj", "ffn_up"),
        ("mlp.down_proj", "ffn_down"), ("input_layernorm", "attn_norm"), ("post_attention_layernorm", "ffn_norm"),
    ]
    private static let topLevel = ["model.embed_tokens.weight": "token_embd.weight", "model.norm.weight": "output_norm.weight",
                                   "lm_head.weight": "output.weight"]

    /// The GGUF name of a Hugging Face tensor name, or nil for one llama.cpp has no name for.
    static func gguf(_ name: String) -> String? {
        if let mapped = topLevel[name] { return mapped }
        let prefix = "model.layers."
        guard name.hasPrefix(prefix) else { return nil }
        let rest = name.dropFirst(prefix.count)
        guard let dot = rest.firstIndex(of: "."), let layer = Int(rest[..<dot]) else { return nil }
        let part = rest[rest.index(after: dot)...]
        for (hf, ours) in layerParts where part.hasPrefix(hf + ".") {
            return "blk.\(layer).\(ours)" + part.dropFirst(hf.count)
        }
        return nil
    }

    /// Heads of a q or k projection (weight or bias) whose rows LLaMA and Baichuan GGUF files
    /// re-order, else nil. llama.cpp rotates adjacent pairs for those but halves for "qwen2" and
    /// "qwen", which need no change; "chatglm" files keep ChatGLM's own order (FamilyWeights).
    static func rotaryHeads(of name: String, config: ModelConfig) -> Int? {
        guard ["llama", "baichuan"].contains(config.ggufArchitecture) else { return nil }
        if name.contains(".self_attn.q_proj.") { return config.numAttentionHeads }
        if name.contains(".self_attn.k_proj.") { return config.numKeyValueHeads }
        return nil
    }

    /// Moves whole rows between Hugging Face's order (per head: first halves, then second halves
    /// of the rotated pairs) and llama.cpp's (pairs adjacent): GGUF row 2i+j is HF row j·r/2+i
    /// among the first r = `rotaryRows` rows of each head (all of them unless given); the rest stay.
    static func reorderRotaryRows(_ source: UnsafeRawPointer, into target: UnsafeMutableRawPointer, rows: Int, byteCount: Int,
                                  heads: Int, rotaryRows: Int? = nil, toGGUF: Bool) {
        let rowBytes = byteCount / rows, d = rows / heads, r = rotaryRows ?? d
        target.copyMemory(from: source, byteCount: byteCount)
        for head in 0..<heads {
            for i in 0..<r / 2 {
                for j in 0..<2 {
                    let ggufRow = head * d + 2 * i + j, hfRow = head * d + j * r / 2 + i
                    let (from, to) = toGGUF ? (hfRow, ggufRow) : (ggufRow, hfRow)
                    (target + to * rowBytes).copyMemory(from: source + from * rowBytes, byteCount: rowBytes)
                }
            }
        }
    }
}
