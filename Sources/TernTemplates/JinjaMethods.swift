// Python string and dict methods that chat templates call (`content.strip()`, `message.get(...)`).
import Foundation

enum Methods {
    private static func method(_ name: String, _ body: @escaping (CallArguments) throws -> JinjaValue) -> JinjaValue {
        .callable(JinjaCallable(name: name, call: body))
    }

    static func dictionary(_ dict: JinjaDict, _ name: String) -> JinjaValue? {
        switch name {
        case "items": return method(name) { _ in .array(dict.pairs.map { .array([.string($0.0), $0.1]) }) }
        case "keys": return method(name) { _ in .array(dict.keys.map { .string($0) }) }
        case "values": return method(name) { _ in .array(dict.pairs.map(\.1)) }
        case "get": return method(name) { args in
            dict[args.value(0, "key")?.text ?? ""] ?? args.value(1, "default") ?? .none
        }
        default: return nil
        }
    }

    static func string(_ s: String, _ name: String) -> JinjaValue? {
        switch name {
        case "startswith", "endswith":
            return method(name) { args in
                let candidates: [JinjaValue]
                switch args.value(0, "prefix") {
                case .array(let items)?: candidates = items
                case let single?: candidates = [single]
                case nil: throw EvaluationError("\(name)() takes one argument")
                }
                return .bool(candidates.contains { name == "startswith" ? s.hasPrefix($0.text) : s.hasSuffix($0.text) })
            }
        case "strip", "lstrip", "rstrip":
            return method(name) { args in
                let chars = args.value(0, "chars").flatMap { $0 == .none ? nil : Set($0.text.unicodeScalars) }
                return .string(strip(s, chars: chars, leading: name != "rstrip", trailing: name != "lstrip"))
            }
        case "split":
            return method(name) { args in
                let separator = args.value(0, "sep").flatMap { $0 == .none ? nil : $0.text }
                let limit = args.value(1, "maxsplit").flatMap { if case .int(let i) = $0 { return i } else { return nil } } ?? -1
                return .array(split(s, separator: separator, limit: limit).map { .string($0) })
            }
        case "upper": return method(name) { _ in .string(s.uppercased()) }
        case "lower": return method(name) { _ in .string(s.lowercased()) }
        case "title": return method(name) { _ in .string(pythonTitle(s)) }
        case "capitalize": return method(name) { _ in .string(capitalize(s)) }
        case "replace":
            return method(name) { args in
                guard let old = args.value(0, "old")?.text, let new = args.value(1, "new")?.text else {
                    throw EvaluationError("replace() takes two arguments")
                }
                let count = args.value(2, "count").flatMap { if case .int(let i) = $0 { return i } else { return nil } } ?? -1
                return .string(replace(s, old, new, count: count))
            }
        case "format":
            return method(name) { args in .string(try format(s, args)) }
        case "join":
            return method(name) { args in .string(try Operations.iterate(args.value(0, "iterable") ?? .array([])).map(\.text).joined(separator: s)) }
        case "find":
            return method(name) { args in
                guard let needle = args.value(0, "sub")?.text, let range = s.range(of: needle) else { return .int(-1) }
                return .int(s.unicodeScalars.distance(from: s.startIndex, to: range.lowerBound))
            }
        case "count":
            return method(name) { args in
                let needle = args.value(0, "sub")?.text ?? ""
                return .int(needle.isEmpty ? s.unicodeScalars.count + 1 : s.components(separatedBy: needle).count - 1)
            }
        case "splitlines":
            return method(name) { _ in .array(s.split(omittingEmptySubsequences: false) { $0.isNewline }.map { .string(String($0)) }.dropLast(s.hasSuffix("\n") ? 1 : 0)) }
        case "isdigit":
            return method(name) { _ in .bool(!s.isEmpty && s.unicodeScalars.allSatisfy { $0.properties.numericType == .decimal }) }
        default:
            return nil
        }
    }

    static func strip(_ s: String, chars: Set<Unicode.Scalar>?, leading: Bool = true, trailing: Bool = true) -> String {
        let strip = { (c: Unicode.Scalar) in chars?.contains(c) ?? c.properties.isWhitespace }
        var scalars = Substring(s).unicodeScalars[...]
        while leading, let first = scalars.first, strip(first) { scalars.removeFirst() }
        while trailing, let last = scalars.last, strip(last) { scalars.removeLast() }
        return String(String.UnicodeScalarView(scalars))
    }

    /// Python's str.split: on runs of whitespace without a separator, else on the exact separator.
    static func split(_ s: String, separator: String?, limit: Int) -> [String] {
        guard let separator else {
            var parts: [String] = []
            var rest = Substring(s)
            while true {
                rest = rest.drop { $0.isWhitespace }
                guard !rest.isEmpty else { break }
                if limit >= 0, parts.count == limit { parts.append(String(rest)); break }
                let word = rest.prefix { !$0.isWhitespace }
                parts.append(String(word))
                rest = rest.dropFirst(word.count)
            }
            return parts
        }
        var parts = s.components(separatedBy: separator)
        if limit >= 0, parts.count > limit + 1 {
            parts = Array(parts.prefix(limit)) + [parts.dropFirst(limit).joined(separator: separator)]
        }
        return parts
    }

    static func replace(_ s: String, _ old: String, _ new: String, count: Int) -> String {
        guard count >= 0 else { return s.replacingOccurrences(of: old, with: new, options: .literal) }
        var parts = s.components(separatedBy: old)
        guard parts.count > count + 1 else { return parts.joined(separator: new) }
        let head = parts.prefix(count + 1).joined(separator: new)
        parts.removeFirst(count + 1)
        return ([head] + parts).joined(separator: old)
    }

    static func capitalize(_ s: String) -> String {
        guard let first = s.unicodeScalars.first else { return s }
        return String(first).uppercased() + String(String.UnicodeScalarView(s.unicodeScalars.dropFirst())).lowercased()
    }

    /// Python's str.title: a letter after a non-letter starts a word.
    static func pythonTitle(_ s: String) -> String {
        var out = ""
        var previousIsLetter = false
        for scalar in s.unicodeScalars {
            let isLetter = scalar.properties.isAlphabetic
            out += previousIsLetter ? String(scalar).lowercased() : String(scalar).uppercased()
            previousIsLetter = isLetter
        }
        return out
    }

    /// str.format with `{}`, `{0}` and `{name}` fields and `{{`/`}}` escapes.
    static func format(_ s: String, _ args: CallArguments) throws -> String {
        var out = "", field = "", inField = false, automatic = 0
        var chars = Array(s)[...]
        while let c = chars.popFirst() {
            if inField {
                if c == "}" {
                    let value: JinjaValue?
                    if field.isEmpty { value = args.positional.indices.contains(automatic) ? args.positional[automatic] : nil; automatic += 1 }
                    else if let i = Int(field) { value = args.positional.indices.contains(i) ? args.positional[i] : nil }
                    else { value = args.named.first { $0.0 == field }?.1 }
                    guard let value else { throw EvaluationError("format(): no argument for field '{\(field)}'") }
                    out += value.text
                    inField = false
                    field = ""
                } else {
                    field.append(c)
                }
            } else if c == "{", chars.first == "{" {
                chars.removeFirst(); out += "{"
            } else if c == "}", chars.first == "}" {
                chars.removeFirst(); out += "}"
            } else if c == "{" {
                inField = true
            } else {
                out.append(c)
            }
        }
        return out
    }
}
