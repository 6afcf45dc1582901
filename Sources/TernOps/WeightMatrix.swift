// A weight matrix as the kernels read it: row-major [rows x columns] in its stored type.
import CTernKernels
import TernFormats

public enum WeightType: Int32, Sendable {
    case f32 = 0, f16 = 1, bf16 = 2

    init(_ dtype: TensorDType) {
        switch dtype {
        case .f32: self = .f32
        case .f16: self = .f16
        case .bf16: self = .bf16
        }
    }
}

public struct WeightMatrix: @unchecked Sendable {
    public let type: WeightType
    /// Output features (PyTorch Linear's out_features).
    public let rows: Int
    /// Input features.
    public let columns: Int
    public let data: UnsafeRawPointer
    /// Whatever owns `data` (a memory-mapped file, or an array held here).
    private let owner: AnyObject

    /// Points into a tensor of a checkpoint without copying it.
    public init(_ view: TensorView, expectedShape: [Int]) throws {
        guard view.shape == expectedShape else {
            throw FormatError("tensor '\(view.name)' has shape \(view.shape), expected \(expectedShape)")
        }
        type = WeightType(view.dtype)
        rows = expectedShape[0]
        columns = expectedShape.count > 1 ? expectedShape[1] : 1
        data = view.data
        owner = view.owner
    }

    public var bytesPerRow: Int { type == .f32 ? columns * 4 : columns * 2 }
    public var byteCount: Int { rows * bytesPerRow }

    /// Copies row `row` into `destination` as f32 (embedding lookup).
    public func copyRow(_ row: Int, to destination: UnsafeMutablePointer<Float>) {
        tern_convert_row(type.rawValue, data + row * bytesPerRow, destination, columns)
    }
}

/// A small vector (norm weight, bias) converted to f32 once at load.
public func loadVector(_ view: TensorView, length: Int) throws -> [Float] {
    guard view.elementCount == length, view.shape.count == 1 else {
        throw FormatError("tensor '\(view.name)' has shape \(view.shape), expected [\(length)]")
    }
    var values = [Float](repeating: 0, count: length)
    values.withUnsafeMutableBufferPointer {
        tern_convert_row(WeightType(view.dtype).rawValue, view.data, $0.baseAddress!, length)
    }
    return values
}
