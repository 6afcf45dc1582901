// The header and key/value metadata of a GGUF file (llama.cpp's format), bounds-checked.
// Tensor descriptors follow the metadata in the file; the quantized-weights work reads those.

public enum GGUFValue: Equatable, Sendable {
    case int(Int64)
    case uint(UInt64)
    case float(Double)
    case bool(Bool)
    case string(String)
    case array([GGUFValue])

    public var intValue: Int? {
        switch self {
        case .int(let v): return Int(exactly: v)
        case .uint(let v): return Int(exactly: v)
        default: return nil
        }
    }

    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    public var doubleValue: Double? {
        switch self {
        case .float(let v): return v
        case .int(let v): return Double(v)
        case .uint(let v): return Double(v)
        default: return nil
        }
    }

    public var arrayValue: [GGUFValue]? {
        if case .array(let a) = self { return a }
        return nil
    }
}

public struct GGUFMetadata: Sendable {
    public let version: UInt32
    public let tensorCount: Int
    public let values: [String: GGUFValue]

    public subscript(key: String) -> GGUFValue? { values[key] }

    public init(path: String) throws {
        let file = try MappedFile(path: path)
        var cursor = GGUFCursor(file: file)
        guard try cursor.read(UInt32.self) == 0x4655_4747 else { throw FormatError("\(path): not a GGUF file (bad magic)") }
        version = try cursor.read(UInt32.self)
        guard version == 2 || version == 3 else { throw FormatError("\(path): unsupported GGUF version \(version)") }
        tensorCount = Int(clamping: try cursor.read(UInt64.self))
        let count = try cursor.read(UInt64.self)
        guard count < 1 << 20 else { throw FormatError("\(path): implausible metadata count \(count)") }
        var values: [String: GGUFValue] = [:]
        do {
            for _ in 0..<count {
                let key = try cursor.string()
                let type = try cursor.read(UInt32.self)
                values[key] = try cursor.value(type: type)
            }
        } catch let error as FormatError {
            throw FormatError("\(path): \(error.message)")
        }
        self.values = values
    }
}

private struct GGUFCursor {
    let file: MappedFile
    var offset = 0

    mutating func need(_ count: Int) throws {
        guard count >= 0, offset + count <= file.size else {
            throw FormatError("metadata runs past the end of the file at byte \(offset); the file is truncated or corrupt")
        }
    }

    mutating func read<T: FixedWidthInteger>(_ type: T.Type) throws -> T {
        try need(MemoryLayout<T>.size)
        let value = (file.base + offset).loadUnaligned(as: T.self)
        offset += MemoryLayout<T>.size
        return T(littleEndian: value)
    }

    mutating func string() throws -> String {
        let length = Int(clamping: try read(UInt64.self))
        try need(length)
        let text = String(decoding: file.bytes(at: offset, count: length), as: UTF8.self)
        offset += length
        return text
    }

    mutating func value(type: UInt32) throws -> GGUFValue {
        switch type {
        case 0: return .uint(UInt64(try read(UInt8.self)))
        case 1: return .int(Int64(try read(Int8.self)))
        case 2: return .uint(UInt64(try read(UInt16.self)))
        case 3: return .int(Int64(try read(Int16.self)))
        case 4: return .uint(UInt64(try read(UInt32.self)))
        case 5: return .int(Int64(try read(Int32.self)))
        case 6: return .float(Double(Float(bitPattern: try read(UInt32.self))))
        case 7: return .bool(try read(UInt8.self) != 0)
        case 8: return .string(try string())
        case 9:
            let elementType = try read(UInt32.self)
            guard elementType != 9 else { throw FormatError("nested GGUF arrays are not supported") }
            let count = Int(clamping: try read(UInt64.self))
            // Each element takes at least one byte, so a larger count is a corrupt file.
            try need(count)
            var items: [GGUFValue] = []
            items.reserveCapacity(count)
            for _ in 0..<count { items.append(try value(type: elementType)) }
            return .array(items)
        case 10: return .uint(try read(UInt64.self))
        case 11: return .int(Int64(bitPattern: try read(UInt64.self)))
        case 12: return .float(Double(bitPattern: try read(UInt64.self)))
        default: throw FormatError("unknown GGUF value type \(type)")
        }
    }
}
