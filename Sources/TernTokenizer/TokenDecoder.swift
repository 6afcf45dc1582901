// Turns a token's string back into bytes (tokenizer.json "decoder"): byte-level, byte fallback,
// replacements such as "▁" -> " ", and the leading-space strip of SentencePiece vocabularies.
import TernFormats

struct TokenDecoder: Sendable {
    var byteLevel = false
    var byteFallback = false
    var replacements: [(String, String)] = []
    /// Spaces removed from the very start of a decoded sequence.
    var stripLeadingSpaces = 0

    init(byteLevel: Bool = false, byteFallback: Bool = false, replacements: [(String, String)] = [], stripLeadingSpaces: Int = 0) {
        self.byteLevel = byteLevel
        self.byteFallback = byteFallback
        self.replacements = replacements
        self.stripLeadingSpaces = stripLeadingSpaces
    }

    init(json: JSONValue?) throws {
        guard let json, !json.isNull else { return }
        try configure(from: json)
    }

    private mutating func configure(from json: JSONValue) throws {
        let type = json["type"]?.stringValue ?? ""
        switch type {
        case "ByteLevel": byteLevel = true
        case "ByteFallback": byteFallback = true
        case "Fuse": break
        case "Replace":
            guard let pattern = json["pattern"]?["String"]?.stringValue else {
                throw FormatError("tokenizer.json: Replace decoder with a regex pattern is not supported")
            }
            replacements.append((pattern, json["content"]?.stringValue ?? ""))
        case "Strip":
            guard json["content"]?.stringValue == " " else { throw FormatError("tokenizer.json: Strip decoder of non-space content is not supported") }
            stripLeadingSpaces = json["start"]?.intValue ?? 0
        case "Metaspace":
            replacements.append((json["replacement"]?.stringValue ?? "▁", " "))
            let scheme = json["prepend_scheme"]?.stringValue ?? ((json["add_prefix_space"]?.boolValue ?? true) ? "always" : "never")
            if scheme != "never" { stripLeadingSpaces = 1 }
        case "Sequence":
            for step in json["decoders"]?.arrayValue ?? [] { try configure(from: step) }
        default:
            throw FormatError("tokenizer.json: unsupported decoder type '\(type)'")
        }
    }

    func bytes(ofToken token: String) -> [UInt8] {
        if byteFallback, let byte = Self.fallbackByte(token) { return [byte] }
        if byteLevel, let bytes = ByteLevelAlphabet.decode(token) { return bytes }
        var text = token
        for (pattern, content) in replacements { text = text.replacingOccurrences(of: pattern, with: content) }
        return Array(text.utf8)
    }

    /// The byte of a `<0xNN>` token.
    static func fallbackByte(_ token: String) -> UInt8? {
        let utf8 = Array(token.utf8)
        guard utf8.count == 6, token.hasPrefix("<0x"), token.hasSuffix(">") else { return nil }
        return UInt8(String(decoding: utf8[3..<5], as: UTF8.self), radix: 16)
    }
}
