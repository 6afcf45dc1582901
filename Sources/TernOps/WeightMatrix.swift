// A weight matrix as the kernels read it: row-major [rows x columns] in its stored type, either
// pointing into a memory-mapped file or owning a buffer it was quantized into.
import CTernKernels
import Foundation
import TernFormats

public enum WeightType: Int32, Sendable, CaseIterable {
    case f32 = 0, f16 = 1, bf16 = 2, q8_0 = 3, q4_0 = 4, q4_k = 5

    init(_ dtype: TensorDType) {
        switch dtype {
        case .f32: self = .f32
        case .f16: self = .f16
        case .bf16: self = .bf16
        }
    }

    public var isQuantized: Bool { rawValue >= WeightType.q8_0.rawValue }

    /// Columns must be a multiple of this for the type to hold a row.
    public var blockSize: Int { isQuantized ? Int(tern_quant_block_size(rawValue)) : 1 }

    public var name: String { ["F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_K"][Int(rawValue)] }
}

/// Memory the matrix owns (a quantized copy), freed with the last matrix that uses it.
final class OwnedBuffer: @unchecked Sendable {
    let pointer: UnsafeMutableRawPointer

    init(bytes: Int) {
        pointer = UnsafeMutableRawPointer.allocate(byteCount: max(bytes, 1), alignment: 64)
    }

    deinit { pointer.deallocate() }
}

public struct WeightMatrix: @unchecked Sendable {
    public let type: WeightType
    /// Output features (PyTorch Linear's out_features).
    public let rows: Int
    /// Input features.
    public let columns: Int
    public let data: UnsafeRawPointer
    /// Whatever owns `data` (a memory-mapped file, or a buffer of our own).
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

    private init(type: WeightType, rows: Int, columns: Int, buffer: OwnedBuffer) {
        self.type = type
        self.rows = rows
        self.columns = columns
        data = UnsafeRawPointer(buffer.pointer)
        owner = buffer
    }

    public var bytesPerRow: Int { tern_quant_row_bytes(type.rawValue, columns) }
    public var byteCount: Int { rows * bytesPerRow }

    /// Copies row `row` into `destination` as f32 (embedding lookup).
    public func copyRow(_ row: Int, to destination: UnsafeMutablePointer<Float>) {
        tern_convert_row(type.rawValue, data + row * bytesPerRow, destination, columns)
    }

    /// Whether rows of this matrix fit whole blocks of `target`.
    public func canQuantize(to target: WeightType) -> Bool {
        target.isQuantized && !type.isQuantized && columns % target.blockSize == 0
    }

    /// A copy in a quantized type, made row by row on the pool's threads.
    public func quantized(to target: WeightType, compute: Compute) -> WeightMatrix {
        precondition(canQuantize(to: target))
        let result = WeightMatrix(type: target, rows: rows, columns: columns,
                                  buffer: OwnedBuffer(bytes: rows * Int(tern_quant_row_bytes(target.rawValue, columns))))
        tern_quantize_matrix(compute.pool, type.rawValue, data, target.rawValue, UnsafeMutableRawPointer(mutating: result.data), rows, columns)
        return result
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
