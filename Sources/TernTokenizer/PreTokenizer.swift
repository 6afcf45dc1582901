// Splitting normalised text into pieces before BPE (tokenizer.json "pre_tokenizer").
import Foundation
import TernFormats

enum SplitRegex {
    static let gpt2 = #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#
    static let llama3 = #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
    static let qwen2 = #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
}

enum SplitBehavior: String, Sendable {
    case isolated = "Isolated", removed = "Removed"
    case mergedWithPrevious = "MergedWithPrevious", mergedWithNext = "MergedWithNext"
}

indirect enum PreTokenizer: @unchecked Sendable {
    case split(NSRegularExpression, SplitBehavior, invert: Bool)
    case byteLevel(addPrefixSpace: Bool, regex: NSRegularExpression?)
    case metaspace(replacement: String, prependAlways: Bool, prependFirst: Bool, splitter: NSRegularExpression?)
    case sequence([PreTokenizer])

    static func regex(_ pattern: String) throws -> NSRegularExpression {
        do { return try NSRegularExpression(pattern: pattern) } catch {
            throw FormatError("tokenizer: cannot compile split pattern \(pattern): \(error)")
        }
    }

    init?(json: JSONValue?) throws {
        guard let json, !json.isNull else { return nil }
        let type = json["type"]?.stringValue ?? ""
        switch type {
        case "Split":
            let pattern = json["pattern"]?["Regex"]?.stringValue
                ?? json["pattern"]?["String"]?.stringValue.map(NSRegularExpression.escapedPattern(for:))
            guard let pattern else { throw FormatError("tokenizer.json: Split pre-tokenizer without a pattern") }
            let behaviorName = json["behavior"]?.stringValue ?? "Isolated"
            guard let behavior = SplitBehavior(rawValue: behaviorName) else {
                throw FormatError("tokenizer.json: unsupported split behavior '\(behaviorName)'")
            }
            self = .split(try Self.regex(pattern), behavior, invert: json["invert"]?.boolValue ?? false)
        case "ByteLevel":
            let useRegex = json["use_regex"]?.boolValue ?? true
            self = .byteLevel(addPrefixSpace: json["add_prefix_space"]?.boolValue ?? false,
                              regex: useRegex ? try Self.regex(SplitRegex.gpt2) : nil)
        case "Metaspace":
            let scheme = json["prepend_scheme"]?.stringValue ?? ((json["add_prefix_space"]?.boolValue ?? true) ? "always" : "never")
            let replacement = json["replacement"]?.stringValue ?? "▁"
            let split = json["split"]?.boolValue ?? true
            self = .metaspace(replacement: replacement, prependAlways: scheme == "always", prependFirst: scheme == "first",
                              splitter: split ? try Self.regex(NSRegularExpression.escapedPattern(for: replacement)) : nil)
        case "Sequence":
            self = .sequence(try (json["pretokenizers"]?.arrayValue ?? []).compactMap { try PreTokenizer(json: $0) })
        default:
            throw FormatError("tokenizer.json: unsupported pre_tokenizer type '\(type)'")
        }
    }

    /// Splits each piece further; `isFirstSection` is true for text at the very start of the input.
    func apply(_ pieces: [String], isFirstSection: Bool) -> [String] {
        switch self {
        case .split(let regex, let behavior, let invert):
            return pieces.flatMap { Self.split($0, regex: regex, behavior: behavior, invert: invert) }
        case .byteLevel(let addPrefixSpace, let regex):
            return pieces.flatMap { piece -> [String] in
                let text = addPrefixSpace && !piece.hasPrefix(" ") ? " " + piece : piece
                let parts = regex.map { Self.split(text, regex: $0, behavior: .isolated, invert: false) } ?? [text]
                return parts.map { ByteLevelAlphabet.encode($0.utf8) }
            }
        case .metaspace(let replacement, let prependAlways, let prependFirst, let splitter):
            return pieces.enumerated().flatMap { index, piece -> [String] in
                var text = piece.replacingOccurrences(of: " ", with: replacement)
                if prependAlways || (prependFirst && isFirstSection && index == 0), !text.hasPrefix(replacement) {
                    text = replacement + text
                }
                guard let splitter else { return [text] }
                return Self.split(text, regex: splitter, behavior: .mergedWithNext, invert: false)
            }
        case .sequence(let steps):
            return steps.reduce(pieces) { $1.apply($0, isFirstSection: isFirstSection) }
        }
    }

    static func split(_ text: String, regex: NSRegularExpression, behavior: SplitBehavior, invert: Bool) -> [String] {
        let whole = NSRange(text.startIndex..., in: text)
        var segments: [(Range<String.Index>, isMatch: Bool)] = []
        var cursor = text.startIndex
        for match in regex.matches(in: text, range: whole) {
            guard let range = Range(match.range, in: text), !range.isEmpty else { continue }
            if cursor < range.lowerBound { segments.append((cursor..<range.lowerBound, invert)) }
            segments.append((range, !invert))
            cursor = range.upperBound
        }
        if cursor < text.endIndex { segments.append((cursor..<text.endIndex, invert)) }
        // A delimiter joins its neighbour only when that neighbour is not a delimiter itself.
        var pieces: [String] = []
        var previousWasMatch = false
        var pendingDelimiter: String?
        for (range, isMatch) in segments {
            let part = String(text[range])
            switch behavior {
            case .isolated:
                pieces.append(part)
            case .removed:
                if !isMatch { pieces.append(part) }
            case .mergedWithPrevious:
                if isMatch, !previousWasMatch, !pieces.isEmpty { pieces[pieces.count - 1] += part } else { pieces.append(part) }
            case .mergedWithNext:
                if isMatch {
                    if let delimiter = pendingDelimiter { pieces.append(delimiter) }
                    pendingDelimiter = part
                } else {
                    pieces.append((pendingDelimiter ?? "") + part)
                    pendingDelimiter = nil
                }
            }
            previousWasMatch = isMatch
        }
        if let delimiter = pendingDelimiter { pieces.append(delimiter) }
        return pieces
    }
}
