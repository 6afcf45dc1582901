// SentencePiece's tokenizer.model: a protobuf ModelProto holding the pieces (text, score, type),
// the trainer's options (model type, byte fallback, special ids) and the normalizer's (character
// map, dummy prefix, whitespace rules). Read with a minimal protobuf reader.
import Foundation

public struct SentencePieceModel: Sendable {
    public enum Kind: Int, Sendable { case unigram = 1, bpe = 2, word = 3, char = 4 }

    public var pieces: [String] = []
    public var scores: [Float] = []
    /// SentencePiece's piece types (1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte), as GGUF keeps them.
    public var types: [Int] = []
    public var kind: Kind = .unigram
    public var byteFallback = false
    public var addDummyPrefix = true
    public var removeExtraWhitespaces = true
    /// The normalization rule compiled into a double-array trie plus replacement strings (empty: identity).
    public var precompiledCharsmap: [UInt8] = []
    public var unknownId: Int? = 0
    public var bosId: Int? = 1
    public var eosId: Int? = 2

    public init(path: String) throws {
        let name = (path as NSString).lastPathComponent
        guard let data = FileManager.default.contents(atPath: path) else { throw FormatError("\(name): cannot be read") }
        do { try parse(Array(data)) } catch let error as FormatError {
            throw FormatError("\(name): not a SentencePiece model (\(error.message))")
        }
        guard !pieces.isEmpty else { throw FormatError("\(name): not a SentencePiece model (no pieces)") }
    }

    private mutating func parse(_ bytes: [UInt8]) throws {
        var reader = ProtobufReader(bytes[...])
        while let (field, value) = try reader.next() {
            switch (field, value) {
            case (1, .bytes(let piece)): try parsePiece(piece)
            case (2, .bytes(let trainer)): try parseTrainer(trainer)
            case (3, .bytes(let normalizer)): try parseNormalizer(normalizer)
            default: continue
            }
        }
    }

    private mutating func parsePiece(_ bytes: ArraySlice<UInt8>) throws {
        var reader = ProtobufReader(bytes)
        var text = "", score: Float = 0, type = 1
        while let (field, value) = try reader.next() {
            switch (field, value) {
            case (1, .bytes(let utf8)):
                guard let string = String(bytes: utf8, encoding: .utf8) else { throw FormatError("piece \(pieces.count) is not UTF-8") }
                text = string
            case (2, .fixed32(let bits)): score = Float(bitPattern: bits)
            case (3, .varint(let value)): type = Int(value)
            default: continue
            }
        }
        pieces.append(text)
        scores.append(score)
        types.append(type)
    }

    private mutating func parseTrainer(_ bytes: ArraySlice<UInt8>) throws {
        var reader = ProtobufReader(bytes)
        while let (field, value) = try reader.next() {
            guard case .varint(let raw) = value else { continue }
            // int32 ids are sign-extended to 64 bits: -1 means none.
            let id = Int(Int32(truncatingIfNeeded: raw))
            switch field {
            case 3:
                guard let kind = Kind(rawValue: Int(raw)) else { throw FormatError("unknown model type \(raw)") }
                self.kind = kind
            case 35: byteFallback = raw != 0
            case 40: unknownId = id >= 0 ? id : nil
            case 41: bosId = id >= 0 ? id : nil
            case 42: eosId = id >= 0 ? id : nil
            default: continue
            }
        }
    }

    private mutating func parseNormalizer(_ bytes: ArraySlice<UInt8>) throws {
        var reader = ProtobufReader(bytes)
        while let (field, value) = try reader.next() {
            if field == 2, case .bytes(let charsmap) = value { precompiledCharsmap = Array(charsmap) }
            guard case .varint(let raw) = value else { continue }
            if field == 3 { addDummyPrefix = raw != 0 }
            if field == 4 { removeExtraWhitespaces = raw != 0 }
        }
    }
}

/// Fields of a protobuf message, one at a time.
struct ProtobufReader {
    enum Value { case varint(UInt64), fixed64(UInt64), bytes(ArraySlice<UInt8>), fixed32(UInt32) }

    private var bytes: ArraySlice<UInt8>

    init(_ bytes: ArraySlice<UInt8>) { self.bytes = bytes }

    mutating func next() throws -> (Int, Value)? {
        guard !bytes.isEmpty else { return nil }
        let key = try varint()
        let field = Int(key >> 3)
        switch key & 7 {
        case 0: return (field, .varint(try varint()))
        case 1: return (field, .fixed64(Self.littleEndian(try take(8))))
        case 2:
            let length = try varint()
            guard length <= UInt64(bytes.count) else { throw FormatError("a field runs past the end") }
            return (field, .bytes(try take(Int(length))))
        case 5: return (field, .fixed32(UInt32(Self.littleEndian(try take(4)))))
        default: throw FormatError("unsupported wire type \(key & 7)")
        }
    }

    private static func littleEndian(_ bytes: ArraySlice<UInt8>) -> UInt64 {
        bytes.enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
    }

    private mutating func varint() throws -> UInt64 {
        var value: UInt64 = 0
        for shift in stride(from: 0, to: 64, by: 7) {
            guard let byte = bytes.popFirst() else { throw FormatError("truncated") }
            value |= UInt64(byte & 0x7F) << UInt64(shift)
            if byte < 0x80 { return value }
        }
        throw FormatError("a varint is too long")
    }

    private mutating func take(_ count: Int) throws -> ArraySlice<UInt8> {
        guard bytes.count >= count else { throw FormatError("truncated") }
        defer { bytes = bytes.dropFirst(count) }
        return bytes.prefix(count)
    }
}
