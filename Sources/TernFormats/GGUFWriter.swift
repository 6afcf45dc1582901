// Writing a GGUF v3 file: typed metadata, tensor descriptors, then each tensor's bytes at an
// aligned offset. Tensors are streamed one at a time, so a model never sits in memory whole.
import Foundation

/// A metadata value with the exact GGUF type readers (llama.cpp among them) expect for its key.
public enum GGUFEntry: Sendable {
    case uint32(UInt32), int32(Int32), float32(Float), bool(Bool), string(String)
    case strings([String]), float32s([Float]), int32s([Int32])
}

/// One tensor to write: its GGUF name, row-major shape (outermost first) and element type.
public struct GGUFTensorPlan: Sendable {
    public let name: String
    public let shape: [Int]
    public let dtype: TensorDType

    public init(name: String, shape: [Int], dtype: TensorDType) {
        self.name = name
        self.shape = shape
        self.dtype = dtype
    }

    public var byteCount: Int {
        guard let bytes = TensorView.byteCount(dtype: dtype, shape: shape) else {
            preconditionFailure("tensor '\(name)' of shape \(shape) is not whole \(dtype.rawValue) blocks")
        }
        return bytes
    }
}

public struct GGUFWriter {
    public static let alignment = 64

    /// Writes `metadata` and `tensors` to `path` (through a temporary file renamed at the end, so
    /// a failed write never leaves a half file behind). `bytes(i)` supplies tensor i's data, which
    /// must be exactly its byteCount long.
    public static func write(to path: String, metadata: [(String, GGUFEntry)], tensors: [GGUFTensorPlan],
                             bytes: (Int) throws -> [UInt8]) throws {
        let temporary = path + ".partial"
        guard let file = fopen(temporary, "wb") else {
            throw FormatError("cannot write \(temporary): \(String(cString: strerror(errno)))")
        }
        var closed = false
        defer { if !closed { fclose(file); unlink(temporary) } }
        var header = ByteWriter()
        header.u32(0x4655_4747)
        header.u32(3)
        header.u64(UInt64(tensors.count))
        header.u64(UInt64(metadata.count + 1))
        header.entry("general.alignment", .uint32(UInt32(alignment)))
        for (key, value) in metadata { header.entry(key, value) }
        var offset = 0
        for tensor in tensors {
            header.string(tensor.name)
            header.u32(UInt32(tensor.shape.count))
            for size in tensor.shape.reversed() { header.u64(UInt64(size)) }
            header.u32(GGUFFile.typeCodes[tensor.dtype]!)
            header.u64(UInt64(offset))
            offset = Self.aligned(offset + tensor.byteCount)
        }
        header.pad(to: alignment)
        try Self.put(header.bytes, file, temporary)
        for (index, tensor) in tensors.enumerated() {
            let data = try bytes(index)
            precondition(data.count == tensor.byteCount, "tensor '\(tensor.name)' data has \(data.count) bytes, expected \(tensor.byteCount)")
            try Self.put(data, file, temporary)
            try Self.put([UInt8](repeating: 0, count: Self.aligned(data.count) - data.count), file, temporary)
        }
        closed = true
        guard fclose(file) == 0 else { unlink(temporary); throw FormatError("cannot finish writing \(temporary)") }
        guard rename(temporary, path) == 0 else {
            unlink(temporary)
            throw FormatError("cannot move \(temporary) to \(path): \(String(cString: strerror(errno)))")
        }
    }

    static func aligned(_ offset: Int) -> Int { (offset + alignment - 1) / alignment * alignment }

    private static func put(_ bytes: [UInt8], _ file: UnsafeMutablePointer<FILE>, _ path: String) throws {
        guard bytes.withUnsafeBytes({ fwrite($0.baseAddress, 1, $0.count, file) }) == bytes.count else {
            throw FormatError("cannot write \(path): \(String(cString: strerror(errno)))")
        }
    }
}

/// Little-endian serialization of GGUF's header pieces.
private struct ByteWriter {
    var bytes: [UInt8] = []

    mutating func u32(_ value: UInt32) { withUnsafeBytes(of: value.littleEndian) { bytes += $0 } }
    mutating func u64(_ value: UInt64) { withUnsafeBytes(of: value.littleEndian) { bytes += $0 } }

    mutating func string(_ text: String) {
        let utf8 = Array(text.utf8)
        u64(UInt64(utf8.count))
        bytes += utf8
    }

    mutating func pad(to alignment: Int) {
        bytes += [UInt8](repeating: 0, count: (alignment - bytes.count % alignment) % alignment)
    }

    mutating func entry(_ key: String, _ value: GGUFEntry) {
        string(key)
        switch value {
        case .uint32(let v): u32(4); u32(v)
        case .int32(let v): u32(5); u32(UInt32(bitPattern: v))
        case .float32(let v): u32(6); u32(v.bitPattern)
        case .bool(let v): u32(7); bytes.append(v ? 1 : 0)
        case .string(let v): u32(8); string(v)
        case .strings(let list):
            arrayHeader(8, list.count)
            for text in list { string(text) }
        case .float32s(let list):
            arrayHeader(6, list.count)
            for v in list { u32(v.bitPattern) }
        case .int32s(let list):
            arrayHeader(5, list.count)
            for v in list { u32(UInt32(bitPattern: v)) }
        }
    }

    private mutating func arrayHeader(_ elementType: UInt32, _ count: Int) {
        u32(9)
        u32(elementType)
        u64(UInt64(count))
    }
}
