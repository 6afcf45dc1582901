// Element types the KV cache can store, as vLLM's --kv-cache-dtype names them.
import CTernKernels

public enum KVCacheType: Int32, CaseIterable, Sendable, CustomStringConvertible {
    case f32 = 0, f16 = 1, bf16 = 2, q8_0 = 3

    public init?(name: String) {
        guard let type = Self.allCases.first(where: { $0.description == name }) else { return nil }
        self = type
    }

    public var description: String {
        switch self {
        case .f32: "f32"
        case .f16: "f16"
        case .bf16: "bf16"
        case .q8_0: "q8_0"
        }
    }

    /// Bytes one token's keys and values take in one layer, scales included.
    public func bytesPerTokenAndLayer(kvHeads: Int, headDim: Int) -> Int {
        let elements = kvHeads * headDim
        switch self {
        case .f32: return 2 * elements * 4
        case .f16, .bf16: return 2 * elements * 2
        case .q8_0: return 2 * (elements + kvHeads * Self.q8Groups(headDim: headDim) * 4)
        }
    }

    static func q8Groups(headDim: Int) -> Int { (headDim + Int(TERN_KV_Q8_GROUP) - 1) / Int(TERN_KV_Q8_GROUP) }

    var elementBytes: Int {
        switch self {
        case .f32: 4
        case .f16, .bf16: 2
        case .q8_0: 1
        }
    }
}
