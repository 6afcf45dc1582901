// A weight matrix as the kernels read it: row-major [rows x columns] in its stored type, either
// pointing into a memory-mapped file or owning a buffer it was quantized into.
import CTernKernels
import Foundation
import TernFormats

public enum WeightType: Int32, Sendable, CaseIterable {
    case f32 = 0, f16 = 1, bf16 = 2, q8_0 = 3, q4_0 = 4, q4_k = 5
    /// In memory only, for speed: Q4_0 / Q8_0 with four rows interleaved block by block, and
    /// Q8_0 / Q4_0 / Q4_K / F16 / BF16 (and below the other block types) with sixteen rows side by
    /// side (one vector lane per row).
    case q4_0x4 = 6, q8_0x4 = 7, q8_0x16 = 8, q4_0x16 = 9, q4_kx16 = 10, f16x16 = 11, bf16x16 = 12
    /// The other GGUF block types, read by unpacking each block in the kernels.
    case q4_1 = 13, q5_0 = 14, q5_1 = 15, q2_k = 16, q3_k = 17, q5_k = 18, q6_k = 19, iq4_nl = 20, iq4_xs = 21
    /// In memory only: 8-bit blocks with an offset, for asymmetric 8-bit GPTQ checkpoints.
    case q8_0m = 22
    /// In memory only: the other GGUF block types with sixteen rows side by side.
    case q4_1x16 = 23, q5_kx16 = 24, q6_kx16 = 25, q5_0x16 = 26, q5_1x16 = 27, iq4_nlx16 = 28, iq4_xsx16 = 29, q3_kx16 = 30, q2_kx16 = 31

    /// The type a stored tensor's elements are used in; nil for integers, which are not weights.
    init?(_ dtype: TensorDType) {
        switch dtype {
        case .f32: self = .f32
        case .f16: self = .f16
        case .bf16: self = .bf16
        case .q8_0: self = .q8_0
        case .q4_0: self = .q4_0
        case .q4_k: self = .q4_k
        case .q4_1: self = .q4_1
        case .q5_0: self = .q5_0
        case .q5_1: self = .q5_1
        case .q2_k: self = .q2_k
        case .q3_k: self = .q3_k
        case .q5_k: self = .q5_k
        case .q6_k: self = .q6_k
        case .iq4_nl: self = .iq4_nl
        case .iq4_xs: self = .iq4_xs
        case .i32: return nil
        }
    }

    /// The type of a stored tensor's elements, or why they are not weights.
    static func of(_ view: TensorView) throws -> WeightType {
        guard let type = WeightType(view.dtype) else {
            throw FormatError("tensor '\(view.name)' holds \(view.dtype.rawValue) integers, not weights")
        }
        return type
    }

    /// The stored form of this type in a file (interleaved layouts are written plain); nil for
    /// the one type no file format has.
    public var fileType: TensorDType? {
        switch self {
        case .f32: return .f32
        case .f16, .f16x16: return .f16
        case .bf16, .bf16x16: return .bf16
        case .q8_0, .q8_0x4, .q8_0x16: return .q8_0
        case .q4_0, .q4_0x4, .q4_0x16: return .q4_0
        case .q4_k, .q4_kx16: return .q4_k
        case .q4_1, .q4_1x16: return .q4_1
        case .q5_0, .q5_0x16: return .q5_0
        case .q5_1, .q5_1x16: return .q5_1
        case .q2_k, .q2_kx16: return .q2_k
        case .q3_k, .q3_kx16: return .q3_k
        case .q5_k, .q5_kx16: return .q5_k
        case .q6_k, .q6_kx16: return .q6_k
        case .iq4_nl, .iq4_nlx16: return .iq4_nl
        case .iq4_xs, .iq4_xsx16: return .iq4_xs
        case .q8_0m: return nil
        }
    }

    public var isQuantized: Bool { blockSize > 1 }

    /// Columns must be a multiple of this for the type to hold a row.
    public var blockSize: Int { fileType?.blockSize ?? TensorDType.q8_0.blockSize }

    public var name: String { fileType?.rawValue ?? "Q8_0M" }

    /// Bytes of a row of `columns` weights in this type.
    public func rowBytes(columns: Int) -> Int { tern_quant_row_bytes(rawValue, columns) }

    var isInterleaved: Bool { fileType.map { WeightType($0) != self } ?? false }
}

/// Memory the matrix owns (a quantized or repacked copy), freed with the last matrix that uses it. Large
/// buffers ask for transparent huge pages: decode streams them whole, and fewer TLB misses help.
public final class OwnedBuffer: @unchecked Sendable {
    public let pointer: UnsafeMutableRawPointer
    static let hugePage = 2 << 20

    public init(bytes: Int) {
        let size = max(bytes, 1)
        pointer = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: size >= Self.hugePage ? Self.hugePage : 64)
        #if os(Linux)
        if size >= Self.hugePage { madvise(pointer, size, MADV_HUGEPAGE) }
        #endif
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
    /// Column j multiplies input inputOrder[j] (GPTQ act-order checkpoints keep each group's
    /// inputs together this way); nil when column j multiplies input j.
    public let inputOrder: [Int32]?

    /// Points into a tensor of a checkpoint without copying it.
    public init(_ view: TensorView, expectedShape: [Int]) throws {
        guard view.shape == expectedShape else {
            throw FormatError("tensor '\(view.name)' has shape \(view.shape), expected \(expectedShape)")
        }
        type = try WeightType.of(view)
        rows = expectedShape[0]
        columns = expectedShape.count > 1 ? expectedShape[1] : 1
        data = view.data
        owner = view.owner
        inputOrder = nil
    }

    private init(type: WeightType, rows: Int, columns: Int, buffer: OwnedBuffer, inputOrder: [Int32]? = nil) {
        self.type = type
        self.rows = rows
        self.columns = columns
        data = UnsafeRawPointer(buffer.pointer)
        owner = buffer
        self.inputOrder = inputOrder
    }

    public var bytesPerRow: Int { type.rowBytes(columns: columns) }
    public var byteCount: Int { rows * bytesPerRow }

    /// Copies row `row` into `destination` as f32 (embedding lookup).
    public func copyRow(_ row: Int, to destination: UnsafeMutablePointer<Float>) {
        tern_matrix_row(type.rawValue, data, row, columns, destination)
    }

    /// Whether rows of this matrix fit whole blocks of `target`.
    public func canQuantize(to target: WeightType) -> Bool {
        target.isQuantized && !type.isQuantized && columns % target.blockSize == 0
    }

    /// A copy in a quantized type in the file layout, made row by row on the pool's threads.
    public func quantizedRows(to target: WeightType, compute: Compute) -> WeightMatrix {
        precondition(canQuantize(to: target))
        let bytes = rows * Int(tern_quant_row_bytes(target.rawValue, columns))
        let plain = WeightMatrix(type: target, rows: rows, columns: columns, buffer: OwnedBuffer(bytes: bytes))
        let targetRowBytes = tern_quant_row_bytes(target.rawValue, columns)
        inChunks(of: Self.copyChunkBytes) { first, count in
            tern_quantize_matrix(compute.pool, type.rawValue, data + first * bytesPerRow, target.rawValue,
                                 UnsafeMutableRawPointer(mutating: plain.data + first * targetRowBytes), count, columns)
        }
        return plain
    }

    /// An f32 copy with every row divided by its L2 norm (at least 1e-12, as torch's F.normalize).
    public func normalizedRows(compute: Compute) -> WeightMatrix {
        let normalized = WeightMatrix(type: .f32, rows: rows, columns: columns, buffer: OwnedBuffer(bytes: rows * columns * 4))
        let out = UnsafeMutablePointer(mutating: normalized.data.assumingMemoryBound(to: Float.self))
        for row in 0..<rows {
            let values = out + row * columns
            copyRow(row, to: values)
            var sum: Double = 0
            for i in 0..<columns { sum += Double(values[i]) * Double(values[i]) }
            let inverse = 1 / Float(max(sum.squareRoot(), 1e-12))
            for i in 0..<columns { values[i] *= inverse }
        }
        return normalized
    }

    /// A GPTQ / AWQ matrix rewritten into `target` blocks on the pool's threads (tern_convert_packed_ints).
    public static func unpacking(_ packed: inout tern_packed_ints, into target: WeightType, inputOrder: [Int32]?, compute: Compute) -> WeightMatrix {
        let rows = packed.outputs, columns = packed.inputs
        let matrix = WeightMatrix(type: target, rows: rows, columns: columns,
                                  buffer: OwnedBuffer(bytes: rows * tern_quant_row_bytes(target.rawValue, columns)), inputOrder: inputOrder)
        tern_convert_packed_ints(compute.pool, &packed, target.rawValue, UnsafeMutableRawPointer(mutating: matrix.data))
        return matrix
    }

    /// This matrix as the kernels read it fastest: Q4_0 and Q8_0 matrices whose rows come in
    /// fours (or sixteens) are interleaved where the CPU has kernels for that layout; others stay as they are.
    public func interleavedForSpeed(compute: Compute) -> WeightMatrix {
        interleavedForSpeed(compute: compute, chunkBytes: Self.copyChunkBytes)
    }

    static let copyChunkBytes = 16 << 20

    func interleavedForSpeed(compute: Compute, chunkBytes: Int) -> WeightMatrix {
        guard let layout = WeightType(rawValue: tern_interleaved_layout(type.rawValue, rows)), layout != type else { return self }
        let interleaved = WeightMatrix(type: layout, rows: rows, columns: columns,
                                       buffer: OwnedBuffer(bytes: rows * tern_quant_row_bytes(layout.rawValue, columns)), inputOrder: inputOrder)
        let layoutRowBytes = tern_quant_row_bytes(layout.rawValue, columns)
        inChunks(of: chunkBytes) { first, count in
            tern_interleave_rows(compute.pool, type.rawValue, layout.rawValue, data + first * bytesPerRow,
                                 UnsafeMutableRawPointer(mutating: interleaved.data + first * layoutRowBytes), count, columns)
        }
        return interleaved
    }

    /// Runs a copy of this matrix in chunks of whole 16-row groups (about `bytes` of it), and after
    /// each chunk lets the file pages it came from leave resident memory: a repacked model then
    /// takes its size once, not twice, even while its largest matrix is being copied (whoever still
    /// reads those pages faults them back in).
    private func inChunks(of bytes: Int, _ copy: (_ firstRow: Int, _ rows: Int) -> Void) {
        let chunk = max(16, bytes / max(bytesPerRow, 1) / 16 * 16)
        for first in stride(from: 0, to: rows, by: chunk) {
            let count = min(chunk, rows - first)
            copy(first, count)
            (owner as? MappedFile)?.releasePages(of: data + first * bytesPerRow, count: count * bytesPerRow)
        }
    }

    /// The matrix's bytes as a file stores them (plain layouts in input order only; see `interleavedForSpeed`).
    public func fileBytes() -> [UInt8] {
        precondition(!type.isInterleaved && type.fileType != nil && inputOrder == nil, "only plain layouts are written to files")
        return Array(UnsafeRawBufferPointer(start: data, count: byteCount))
    }
}

/// A small vector (norm weight, bias) converted to f32 once at load.
public func loadVector(_ view: TensorView, length: Int) throws -> [Float] {
    guard view.elementCount == length, view.shape.count == 1 else {
        throw FormatError("tensor '\(view.name)' has shape \(view.shape), expected [\(length)]")
    }
    let type = try WeightType.of(view)
    var values = [Float](repeating: 0, count: length)
    values.withUnsafeMutableBufferPointer {
        tern_convert_row(type.rawValue, view.data, $0.baseAddress!, length)
    }
    return values
}
