// --kv-cache-dtype: a KV cache element type, or `auto` for the checkpoint's own float type.
import TernFormats
import TernOps

public enum KVCacheSetting: Sendable, Equatable, CustomStringConvertible {
    case auto
    case type(KVCacheType)

    /// f16, as llama.cpp keeps its cache: half of f32's memory, and greedy output unchanged.
    public static let standard = KVCacheSetting.type(.f16)
    public static let names = "auto, " + KVCacheType.allCases.map(\.description).joined(separator: ", ")

    public init?(name: String) {
        if name == "auto" {
            self = .auto
        } else if let type = KVCacheType(name: name) {
            self = .type(type)
        } else {
            return nil
        }
    }

    public var description: String {
        switch self {
        case .auto: "auto"
        case .type(let type): type.description
        }
    }

    /// The type for this model: `auto` follows config.json's torch_dtype (f16 where there is none,
    /// as for GGUF files).
    public func resolved(for config: ModelConfig) -> KVCacheType {
        switch self {
        case .type(let type): return type
        case .auto:
            switch config.torchDType {
            case "float32": return .f32
            case "bfloat16": return .bf16
            default: return .f16
            }
        }
    }
}
