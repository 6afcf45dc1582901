// The architecture families Tern runs, and the ways their decoders differ from LLaMA's. Every
import Foundation
// family is the same pre-norm decoder (RMSNorm, attention, SwiGLU); these are its named variations.

public enum ModelFamily: String, Sendable, CaseIterable {
    /// LLaMA 2/3, Qwen2, Mistral, Yi: the shape everything else is described against.
    case llama
    /// ChatGLM2/3: fused QKV with bias, fused gate/up, rotary on half of each head in adjacent pairs.
    case chatglm
    /// Baichuan 1/2: fused QKV (W_pack); 7B rotary, 13B ALiBi; Baichuan2's L2-normalised LM head.
    case baichuan
    /// Qwen first generation: fused QKV with bias, w1 = up and w2 = gate, dynamic NTK and logn attention.
    case qwen

    /// The family of a config.json `architectures` entry.
    public static func of(architecture: String) -> ModelFamily? {
        switch architecture {
        case "LlamaForCausalLM", "Qwen2ForCausalLM", "MistralForCausalLM": return .llama
        case "ChatGLMModel", "ChatGLMForConditionalGeneration": return .chatglm
        case "BaichuanForCausalLM", "BaiChuanForCausalLM": return .baichuan
        case "QWenLMHeadModel": return .qwen
        default: return nil
        }
    }

    /// The `model_type` each family's configs carry (LLaMA-shaped ones carry several).
    var modelTypes: Set<String> {
        switch self {
        case .llama: return ["llama", "qwen2", "mistral", "Yi", "yi"]
        case .chatglm: return ["chatglm"]
        case .baichuan: return ["baichuan"]
        case .qwen: return ["qwen"]
        }
    }
}

/// How attention learns where tokens are.
public enum PositionEncoding: Sendable, Equatable, CustomStringConvertible {
    /// Rotary embedding of the first `rotaryDimensions` of each head, halves layout.
    case rotary
    /// A linear bias per head on the distance to each key (Baichuan-13B).
    case alibi

    public var description: String { self == .rotary ? "RoPE" : "ALiBi" }
}

/// Qwen's long-context rules beyond the length it was trained on (`seq_length`): the rotary base
/// grows with the prompt (dynamic NTK), and queries past that length are scaled by logn.
public struct LongContextRules: Sendable, Equatable {
    public var trainedLength: Int
    public var dynamicNTK: Bool
    public var lognAttention: Bool

    public init(trainedLength: Int, dynamicNTK: Bool, lognAttention: Bool) {
        self.trainedLength = trainedLength
        self.dynamicNTK = dynamicNTK
        self.lognAttention = lognAttention
    }

    /// The NTK alpha Qwen picks for a sequence whose first forward pass saw `promptLength` tokens:
    /// 1 within the trained length, then 3, 7, 15, ... as the prompt doubles. It is kept for the
    /// rest of the sequence (the original code caches it at prefill).
    public func ntkAlpha(promptLength: Int) -> Double {
        guard dynamicNTK, promptLength > trainedLength else { return 1 }
        let context = log2(Double(promptLength) / Double(trainedLength)) + 1
        return max(pow(2, context.rounded(.up)) - 1, 1)
    }

    /// The factor on the query at `position`: log(position + 1) / log(trainedLength) past the trained length.
    public func queryScale(position: Int) -> Float {
        guard lognAttention, position + 1 > trainedLength else { return 1 }
        return Float(log(Double(position + 1)) / log(Double(trainedLength)))
    }
}
