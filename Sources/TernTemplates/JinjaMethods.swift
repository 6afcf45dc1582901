// Python string, list and dict methods that chat templates call (`content.strip()`,
// `message.get(...)`). Like the sandbox transformers renders in, none of them changes a value.
import Foundation

enum Methods {
    private static func method(_ name: String, _ body: @escaping (CallArguments) throws -> JinjaValue) -> JinjaValue {
        .callable(JinjaCallable(name: name, call: body))
    }

    static func dictionary(_ dict: JinjaDict, _ name: String) -> JinjaValue? {
        switch name {
        case "items": return method(name) { _ in .array(dict.keyValuePairs.map { .tuple([$0.0, $0.1]) }) }
        case "keys": return method(name) { _ in .array(dict.keys.map(dict.key)) }
        case "values": return method(name) { _ in .array(dict.pairs.map(\.1)) }
        case "get": return method(name) { args in
            dict[args.value(0, "key")?.text ?? ""] ?? args.value(1, "default") ?? .none
        }
        default: return nil
        }
    }

    static func list(_ items: [JinjaValue], _ name: String) -> JinjaValue? {
        switch name {
        case "index": return method(name) { args in
            let wanted = args.value(0, "value") ?? .none
            guard let found = items.firstIndex(of: wanted) else { throw EvaluationError("\(wanted.repr) is not in list") }
            return .int(found)
        }
        case "count": return method(name) { args in .int(items.filter { $0 == (args.value(0, "value") ?? .none) }.count) }
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
                let limit = Filters.integer(args.value(1, "maxsplit")) ?? -1
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
                let count = Filters.integer(args.value(2, "count")) ?? -1
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
        case "isalpha": return method(name) { _ in .bool(!s.isEmpty && s.unicodeScalars.allSatisfy(\.properties.isAlphabetic)) }
        case "isspace": return method(name) { _ in .bool(!s.isEmpty && s.unicodeScalars.allSatisfy(\.properties.isWhitespace)) }
        case "isalnum":
            return method(name) { _ in .bool(!s.isEmpty && s.unicodeScalars.allSatisfy { $0.properties.isAlphabetic || $0.properties.numericType != nil }) }
        case "islower", "isupper":
            return method(name) { _ in
                let cased = s.unicodeScalars.filter { $0.properties.isLowercase || $0.properties.isUppercase }
                return .bool(!cased.isEmpty && cased.allSatisfy { name == "islower" ? $0.properties.isLowercase : $0.properties.isUppercase })
            }
        case "removeprefix", "removesuffix":
            return method(name) { args in
                let affix = args.value(0, name == "removeprefix" ? "prefix" : "suffix")?.text ?? ""
                if affix.isEmpty { return .string(s) }
                if name == "removeprefix" { return .string(s.hasPrefix(affix) ? String(s.dropFirst(affix.count)) : s) }
                return .string(s.hasSuffix(affix) ? String(s.dropLast(affix.count)) : s)
            }
        case "rsplit":
            return method(name) { args in
                let separator = args.value(0, "sep").flatMap { $0 == .none ? nil : $0.text }
                let limit = Filters.integer(args.value(1, "maxsplit")) ?? -1
                return .array(rsplit(s, separator: separator, limit: limit).map { .string($0) })
            }
        case "rfind":
            return method(name) { args in
                guard let needle = args.value(0, "sub")?.text, let range = s.range(of: needle, options: .backwards) else { return .int(-1) }
                return .int(s.unicodeScalars.distance(from: s.startIndex, to: range.lowerBound))
            }
        case "zfill":
            return method(name) { args in
                guard case .int(let width)? = args.value(0, "width") else { throw EvaluationError("zfill() takes an integer") }
                let count = s.unicodeScalars.count, sign = s.hasPrefix("-") || s.hasPrefix("+")
                guard width > count else { return .string(s) }
                let zeros = String(repeating: "0", count: width - count)
                return .string(sign ? String(s.prefix(1)) + zeros + s.dropFirst() : zeros + s)
            }
        case "ljust", "rjust", "center":
            return method(name) { args in
                guard case .int(let width)? = args.value(0, "width") else { throw EvaluationError("\(name)() takes an integer width") }
                let fill = args.value(1, "fillchar")?.text ?? " "
                return .string(pad(s, width: width, fill: fill, how: name))
            }
        case "partition", "rpartition":
            return method(name) { args in
                let separator = args.value(0, "sep")?.text ?? ""
                guard !separator.isEmpty else { throw EvaluationError("empty separator") }
                guard let range = s.range(of: separator, options: name == "rpartition" ? .backwards : []) else {
                    return .tuple(name == "partition" ? [.string(s), .string(""), .string("")] : [.string(""), .string(""), .string(s)])
                }
                return .tuple([.string(String(s[..<range.lowerBound])), .string(separator), .string(String(s[range.upperBound...]))])
            }
        case "swapcase":
            return method(name) { _ in
                .string(s.unicodeScalars.map { $0.properties.isUppercase ? String($0).lowercased() : String($0).uppercased() }.joined())
            }
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

    /// Python's str.rsplit: as split, but a limit counts from the end.
    static func rsplit(_ s: String, separator: String?, limit: Int) -> [String] {
        guard limit >= 0 else { return split(s, separator: separator, limit: -1) }
        let reversedParts = split(String(s.reversed()), separator: separator.map { String($0.reversed()) }, limit: limit)
        return reversedParts.reversed().map { String($0.reversed()) }
    }

    /// Python's str.ljust / rjust / center (center puts the odd fill character on the right unless the
    /// width's remainder says otherwise, as CPython does).
    static func pad(_ s: String, width: Int, fill: String, how: String) -> String {
        let count = s.unicodeScalars.count
        guard width > count else { return s }
        let total = width - count
        switch how {
        case "ljust": return s + String(repeating: fill, count: total)
        case "rjust": return String(repeating: fill, count: total) + s
        default:
            let left = total / 2 + (total & width & 1)
            return String(repeating: fill, count: left) + s + String(repeating: fill, count: total - left)
        }
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
