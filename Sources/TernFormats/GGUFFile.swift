// Reading a GGUF file (llama.cpp's format): header, key/value metadata and tensor descriptors,
// all bounds-checked; tensors are views into the memory-mapped data section.

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
    public let values: [String: GGUFValue]

    public subscript(key: String) -> GGUFValue? { values[key] }

    public init(path: String) throws {
        self = try GGUFFile(path: path).metadata
    }

    init(version: UInt32, values: [String: GGUFValue]) {
        self.version = version
        self.values = values
    }
}

/// A whole GGUF file: metadata, and every tensor as a view into the mapped data section.
public struct GGUFFile: Sendable {
    public let path: String
    public let metadata: GGUFMetadata
    /// Tensors of a type Tern reads, by their GGUF names.
    public let tensors: [String: TensorView]
    /// Tensors of other GGML types, with the type's name, so asking for one can say why it fails.
    public let unsupportedTensors: [String: String]

    /// ggml's type ids of the types Tern reads.
    public static let typeCodes: [TensorDType: UInt32] = [.f32: 0, .f16: 1, .q4_0: 2, .q4_1: 3, .q5_0: 6, .q5_1: 7, .q8_0: 8,
                                                          .q2_k: 10, .q3_k: 11, .q4_k: 12, .q5_k: 13, .q6_k: 14, .iq4_nl: 20,
                                                          .iq4_xs: 23, .bf16: 30]
    /// ggml's other types, named in the error for a tensor of one of them.
    static let otherTypeNames: [UInt32: String] = [9: "Q8_1", 15: "Q8_K", 16: "IQ2_XXS", 17: "IQ2_XS", 18: "IQ3_XXS", 19: "IQ1_S",
                                                   21: "IQ3_S", 22: "IQ2_S", 24: "I8", 25: "I16", 26: "I32", 27: "I64", 28: "F64",
                                                   29: "IQ1_M", 34: "TQ1_0", 35: "TQ2_0", 39: "MXFP4"]
    public static let defaultAlignment = 32
    static let supportedTypeNames = TensorDType.allCases.filter { typeCodes[$0] != nil }.map(\.rawValue).joined(separator: ", ")

    public init(path: String) throws {
        self.path = path
        let file = try MappedFile(path: path)
        var cursor = GGUFCursor(file: file)
        do {
            guard try cursor.read(UInt32.self) == 0x4655_4747 else { throw FormatError("not a GGUF file (bad magic)") }
            let version = try cursor.read(UInt32.self)
            guard version == 2 || version == 3 else { throw FormatError("unsupported GGUF version \(version)") }
            let tensorCount = try cursor.read(UInt64.self)
            let count = try cursor.read(UInt64.self)
            guard count < 1 << 20, tensorCount < 1 << 20 else { throw FormatError("implausible metadata or tensor count") }
            var values: [String: GGUFValue] = [:]
            for _ in 0..<count {
                let key = try cursor.string()
                let type = try cursor.read(UInt32.self)
                values[key] = try cursor.value(type: type)
            }
            metadata = GGUFMetadata(version: version, values: values)
            let alignment = values["general.alignment"]?.intValue ?? Self.defaultAlignment
            guard alignment > 0, alignment & (alignment - 1) == 0 else { throw FormatError("general.alignment \(alignment) is not a power of two") }
            var infos: [(name: String, shape: [Int], type: UInt32, offset: Int)] = []
            for _ in 0..<tensorCount {
                let name = try cursor.string()
                let dimensions = Int(try cursor.read(UInt32.self))
                guard (1...4).contains(dimensions) else { throw FormatError("tensor '\(name)' has \(dimensions) dimensions") }
                // GGUF lists the innermost dimension first; views list the outermost first.
                let sizes = try (0..<dimensions).map { _ in try cursor.read(UInt64.self) }
                guard sizes.allSatisfy({ $0 > 0 && $0 < 1 << 40 }) else { throw FormatError("tensor '\(name)' has a bad shape \(sizes)") }
                let type = try cursor.read(UInt32.self)
                let offset = try cursor.read(UInt64.self)
                guard offset < 1 << 48 else { throw FormatError("tensor '\(name)' has a bad offset") }
                infos.append((name, sizes.reversed().map { Int($0) }, type, Int(offset)))
            }
            let dataStart = (cursor.offset + alignment - 1) / alignment * alignment
            var tensors: [String: TensorView] = [:]
            var unsupported: [String: String] = [:]
            let dtypes = Dictionary(uniqueKeysWithValues: Self.typeCodes.map { ($1, $0) })
            for info in infos {
                guard let dtype = dtypes[info.type] else {
                    unsupported[info.name] = Self.otherTypeNames[info.type] ?? "type \(info.type)"
                    continue
                }
                guard let bytes = TensorView.byteCount(dtype: dtype, shape: info.shape) else {
                    throw FormatError("tensor '\(info.name)' of shape \(info.shape) is not whole \(dtype.rawValue) blocks")
                }
                guard info.offset % alignment == 0, dataStart + info.offset + bytes <= file.size else {
                    throw FormatError("tensor '\(info.name)' lies outside the file or is misaligned; the file is truncated or corrupt")
                }
                tensors[info.name] = TensorView(name: info.name, dtype: dtype, shape: info.shape, data: file.base + dataStart + info.offset,
                                                byteCount: bytes, owner: file)
            }
            self.tensors = tensors
            unsupportedTensors = unsupported
        } catch let error as FormatError {
            throw FormatError("\(path): \(error.message)")
        }
    }

    /// The tensor called `name`, or an error saying it is missing or of a type Tern cannot read.
    public func tensor(_ name: String) throws -> TensorView {
        if let view = tensors[name] { return view }
        if let type = unsupportedTensors[name] {
            throw FormatError("\(path): tensor '\(name)' is \(type), which Tern does not read (supported: \(Self.supportedTypeNames))")
        }
        throw FormatError("\(path): no tensor '\(name)'")
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
