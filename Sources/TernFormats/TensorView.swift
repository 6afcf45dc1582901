// A typed, shaped view of tensor bytes that live in a memory-mapped model file.

public enum TensorDType: String, Sendable, CaseIterable {
    case f32 = "F32"
    case f16 = "F16"
    case bf16 = "BF16"

    public var byteSize: Int {
        switch self {
        case .f32: return 4
        case .f16, .bf16: return 2
        }
    }
}

public struct TensorView: @unchecked Sendable {
    public let name: String
    public let dtype: TensorDType
    /// Row-major shape, outermost dimension first (as safetensors and PyTorch write it).
    public let shape: [Int]
    public let data: UnsafeRawPointer
    public let byteCount: Int
    /// Keeps the mapping alive as long as a view of it exists.
    public let owner: MappedFile

    public var elementCount: Int { shape.reduce(1, *) }
}
