// Text normalisation before splitting (tokenizer.json "normalizer"): NFC, prepend, replace, ...
import Foundation
import TernFormats

enum Normalizer: Sendable {
    case nfc, nfkc, nfd, lowercase
    case prepend(String)
    case replace(String, String)
    case strip(left: Bool, right: Bool)
    case sequence([Normalizer])
    /// SentencePiece's own normalizer (character map, whitespace rules, dummy prefix, "▁").
    case sentencePiece(SentencePieceNormalizer)

    init?(json: JSONValue?) throws {
        guard let json, !json.isNull else { return nil }
        let type = json["type"]?.stringValue ?? ""
        switch type {
        case "NFC": self = .nfc
        case "NFKC": self = .nfkc
        case "NFD": self = .nfd
        case "Lowercase": self = .lowercase
        case "Prepend": self = .prepend(json["prepend"]?.stringValue ?? "")
        case "Replace":
            guard let pattern = json["pattern"]?["String"]?.stringValue else {
                throw FormatError("tokenizer.json: Replace normalizer with a regex pattern is not supported")
            }
            self = .replace(pattern, json["content"]?.stringValue ?? "")
        case "Strip": self = .strip(left: json["strip_left"]?.boolValue ?? true, right: json["strip_right"]?.boolValue ?? true)
        case "Sequence":
            self = .sequence(try (json["normalizers"]?.arrayValue ?? []).compactMap { try Normalizer(json: $0) })
        default: throw FormatError("tokenizer.json: unsupported normalizer type '\(type)'")
        }
    }

    func apply(_ text: String) -> String {
        switch self {
        case .nfc: return text.precomposedStringWithCanonicalMapping
        case .nfkc: return text.precomposedStringWithCompatibilityMapping
        case .nfd: return text.decomposedStringWithCanonicalMapping
        case .lowercase: return text.lowercased()
        case .prepend(let prefix): return text.isEmpty ? text : prefix + text
        case .replace(let pattern, let content): return text.replacingOccurrences(of: pattern, with: content)
        case .strip(let left, let right):
            var scalars = Substring(text).unicodeScalars[...]
            while left, let first = scalars.first, first.properties.isWhitespace { scalars.removeFirst() }
            while right, let last = scalars.last, last.properties.isWhitespace { scalars.removeLast() }
            return String(String.UnicodeScalarView(scalars))
        case .sequence(let steps): return steps.reduce(text) { $1.apply($0) }
        case .sentencePiece(let normalizer): return normalizer.apply(text)
        }
    }
}
