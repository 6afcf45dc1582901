// Which block type each tensor gets under a quantization choice. Tern's own choices (q8_0, q4_0,
// q4_k) put every linear layer in one type and embedding and LM head in Q8_0; llama-quantize's
// mixes (q2_k, q3_k_m, q4_k_m, q5_k_m, q6_k) follow its per-tensor rules, so a file written with
// one holds the same types as llama.cpp's file of that name.
import TernFormats
import TernOps

public enum Quantization: String, Sendable, CaseIterable {
    case none, q8_0, q4_0, q4_k
    case q2_k, q3_k_m, q4_k_m, q5_k_m, q6_k

    /// The names as help texts list them.
    public static let names = allCases.map(\.rawValue).joined(separator: ", ")

    /// Accepts llama.cpp's spelling too (Q4_K_M).
    public init?(name: String) { self.init(rawValue: name.lowercased()) }

    /// The type of most linear layers.
    var bulkType: WeightType? {
        switch self {
        case .none: return nil
        case .q8_0: return .q8_0
        case .q4_0: return .q4_0
        case .q4_k, .q4_k_m: return .q4_k
        case .q2_k: return .q2_k
        case .q3_k_m: return .q3_k
        case .q5_k_m: return .q5_k
        case .q6_k: return .q6_k
        }
    }

    var isLlamaCppMix: Bool { ![.none, .q8_0, .q4_0, .q4_k].contains(self) }

    /// llama.cpp's general.file_type code (Tern's q4_k is llama.cpp's Q4_K_S: every layer Q4_K).
    public var fileTypeCode: UInt32? {
        switch self {
        case .none: return nil
        case .q8_0: return 7
        case .q4_0: return 2
        case .q4_k: return 14
        case .q2_k: return 10
        case .q3_k_m: return 12
        case .q4_k_m: return 15
        case .q5_k_m: return 17
        case .q6_k: return 18
        }
    }
}

/// What a tensor is, for the per-tensor rules.
enum TensorRole: Equatable {
    case tokenEmbedding(tiedToOutput: Bool), output
    case attentionQ, attentionK, attentionV, attentionOutput, ffnGate, ffnUp, ffnDown
    /// q, k and v in one tensor (ChatGLM's and Qwen-1's attn_qkv).
    case attentionQKV
    /// A linear layer outside the rules, which gets the bulk type.
    case otherLinear

    /// The role of a Hugging Face linear weight name ("model.layers.3.mlp.down_proj.weight") and its layer.
    static func linear(_ name: String) -> (TensorRole, layer: Int)? {
        let parts = name.split(separator: ".")
        guard parts.count >= 5, parts[1] == "layers", let layer = Int(parts[2]) else { return nil }
        let roles: [Substring: TensorRole] = ["q_proj": .attentionQ, "k_proj": .attentionK, "v_proj": .attentionV, "o_proj": .attentionOutput,
                                              "gate_proj": .ffnGate, "up_proj": .ffnUp, "down_proj": .ffnDown]
        return roles[parts[4]].map { ($0, layer) }
    }
}

struct QuantizationMix {
    let quantization: Quantization
    let config: ModelConfig

    /// The block type for a tensor with rows of `columns` weights, nil to keep it as stored.
    func type(of role: TensorRole, layer: Int = 0, columns: Int) -> WeightType? {
        guard let bulk = quantization.bulkType else { return nil }
        if !quantization.isLlamaCppMix {
            switch role {
            case .tokenEmbedding, .output: return columns % TensorDType.q8_0.blockSize == 0 ? .q8_0 : nil
            default: return fitting(bulk == .q4_k ? [.q4_k, .q4_0] : [bulk], columns: columns)
            }
        }
        let chosen = llamaCppType(of: role, layer: layer, columns: columns, bulk: bulk)
        return fitting([chosen] + (Self.fallback[chosen].map { [$0] } ?? []), columns: columns)
    }

    /// The first of `types` whose blocks fill a row.
    private func fitting(_ types: [WeightType], columns: Int) -> WeightType? {
        types.first { columns % $0.blockSize == 0 }
    }

    /// llama-quantize's fallback when rows are not whole 256-weight super-blocks.
    private static let fallback: [WeightType: WeightType] = [.q2_k: .q4_0, .q3_k: .q4_0, .q4_k: .q5_0, .q5_k: .q5_1, .q6_k: .q8_0]

    /// Layers that get more bits in the Q4_K_M and Q5_K_M mixes: the first and last eighth and
    /// every third one between.
    private static func usesMoreBits(_ layer: Int, of layers: Int) -> Bool {
        layer < layers / 8 || layer >= 7 * layers / 8 || (layer - layers / 8) % 3 == 2
    }

    private func llamaCppType(of role: TensorRole, layer: Int, columns: Int, bulk: WeightType) -> WeightType {
        let layers = config.numHiddenLayers
        let groupedQuery = config.numAttentionHeads / config.numKeyValueHeads
        switch role {
        case .output, .tokenEmbedding(tiedToOutput: true):
            return columns % TensorDType.q6_k.blockSize == 0 ? .q6_k : .q8_0
        case .attentionV:
            var type = bulk
            switch quantization {
            case .q2_k: type = groupedQuery >= 4 ? .q4_k : .q3_k
            case .q3_k_m: type = layer < 2 ? .q5_k : .q4_k
            case .q4_k_m, .q5_k_m: if Self.usesMoreBits(layer, of: layers) { type = .q6_k }
            default: break
            }
            // A 70B LLaMA's attn_v is eight times smaller than attn_q: more bits cost little.
            if layers == 80, type == .q3_k || type == .q4_k { type = .q5_k }
            return type
        case .ffnDown:
            switch quantization {
            case .q2_k: return .q3_k
            case .q3_k_m: return layer < layers / 16 ? .q5_k : .q4_k
            case .q4_k_m, .q5_k_m: return Self.usesMoreBits(layer, of: layers) ? .q6_k : bulk
            default: return bulk
            }
        case .attentionOutput:
            switch quantization {
            case .q2_k: return .q3_k
            case .q3_k_m: return .q4_k
            default: return bulk
            }
        case .attentionQKV:
            switch quantization {
            case .q3_k_m: return .q4_k
            case .q4_k_m: return .q5_k
            case .q5_k_m: return .q6_k
            default: return bulk
            }
        default:
            return bulk
        }
    }
}
