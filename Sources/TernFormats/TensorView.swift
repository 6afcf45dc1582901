// A typed, shaped view of tensor bytes that live in a memory-mapped model file.

/// Element types of stored tensors: plain floats, and llama.cpp's block-quantized layouts
/// (a block of `blockSize` weights takes `blockBytes` bytes, rows are whole blocks).
public enum TensorDType: String, Sendable, CaseIterable {
    case f32 = "F32"
    case f16 = "F16"
    case bf16 = "BF16"
    case q8_0 = "Q8_0"
    case q4_0 = "Q4_0"
    case q4_k = "Q4_K"
    case q4_1 = "Q4_1"
    case q5_0 = "Q5_0"
    case q5_1 = "Q5_1"
    case q2_k = "Q2_K"
    case q3_k = "Q3_K"
    case q5_k = "Q5_K"
    case q6_k = "Q6_K"
    case iq4_nl = "IQ4_NL"
    case iq4_xs = "IQ4_XS"
    /// Integers: the packed words of GPTQ and AWQ checkpoints, and their group indices.
    case i32 = "I32"

    public static let floatTypes: [TensorDType] = [.f32, .f16, .bf16]

    public var blockSize: Int {
        switch self {
        case .f32, .f16, .bf16, .i32: return 1
        case .q8_0, .q4_0, .q4_1, .q5_0, .q5_1, .iq4_nl: return 32
        case .q4_k, .q2_k, .q3_k, .q5_k, .q6_k, .iq4_xs: return 256
        }
    }

    public var blockBytes: Int {
        switch self {
        case .f32, .i32: return 4
        case .f16, .bf16: return 2
        case .q8_0: return 34
        case .q4_0, .iq4_nl: return 18
        case .q4_k: return 144
        case .q4_1: return 20
        case .q5_0: return 22
        case .q5_1: return 24
        case .q2_k: return 84
        case .q3_k: return 110
        case .q5_k: return 176
        case .q6_k: return 210
        case .iq4_xs: return 136
        }
    }

    /// Bytes of a row of `columns` elements, or nil when the row is not made of whole blocks.
    public func rowBytes(columns: Int) -> Int? {
        guard columns >= 0, columns % blockSize == 0 else { return nil }
        return columns / blockSize * blockBytes
    }
}

public struct TensorView: @unchecked Sendable {
    public let name: String
    public let dtype: TensorDType
    /// Row-major shape, outermost dimension first (as safetensors and PyTorch write it).
    public let shape: [Int]
    public let data: UnsafeRawPointer
    public let byteCount: Int
    /// Keeps the bytes alive as long as a view of them exists (a mapped file, or a buffer).
    public let owner: AnyObject

    public init(name: String, dtype: TensorDType, shape: [Int], data: UnsafeRawPointer, byteCount: Int, owner: AnyObject) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.data = data
        self.byteCount = byteCount
        self.owner = owner
    }

    public var elementCount: Int { shape.reduce(1, *) }

    /// Bytes that `shape` of `dtype` takes (nil on overflow or a partial block in the inner dimension).
    public static func byteCount(dtype: TensorDType, shape: [Int]) -> Int? {
        guard let rowBytes = dtype.rowBytes(columns: shape.last ?? 1) else { return nil }
        var total = rowBytes
        for dimension in shape.dropLast() {
            let (product, overflow) = total.multipliedReportingOverflow(by: dimension)
            guard !overflow else { return nil }
            total = product
        }
        return total
    }
}
