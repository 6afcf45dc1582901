// Jinja's filters that lay out text: indent, printf-style format, truncate, word count, tag
// stripping, file sizes, URL encoding and XML attributes.
import Foundation

enum TextFilters {
    static func apply(_ name: String, _ value: JinjaValue, _ args: CallArguments) throws -> JinjaValue {
        switch name {
        case "indent": return .string(indent(value.text, args))
        case "format": return .string(try percentFormat(value.text, args.named.isEmpty ? args.positional : [.dict(JinjaDict(args.named))]))
        case "truncate": return .string(truncate(value.text, args))
        case "wordcount":
            return .int(value.text.unicodeScalars.split { !isWordScalar($0) }.count)
        case "striptags": return .string(stripTags(value.text))
        case "filesizeformat": return .string(try fileSize(value, binary: args.value(0, "binary")?.isTruthy ?? false))
        case "urlencode": return .string(try urlencode(value))
        default: return try xmlattr(value, autospace: args.value(0, "autospace")?.isTruthy ?? true)
        }
    }

    private static func isWordScalar(_ scalar: Unicode.Scalar) -> Bool {
        scalar == "_" || scalar.properties.isAlphabetic || scalar.properties.numericType != nil
    }

    private static func indent(_ text: String, _ args: CallArguments) -> String {
        let width = args.value(0, "width")
        let pad = width.flatMap { if case .int(let n) = $0 { return String(repeating: " ", count: n) } else { return $0.text } } ?? "    "
        let first = args.value(1, "first")?.isTruthy ?? false
        let blank = args.value(2, "blank")?.isTruthy ?? false
        let lines = text.components(separatedBy: "\n")
        return lines.enumerated().map { i, line in
            (i == 0 && !first) || (line.isEmpty && !blank) ? line : pad + line
        }.joined(separator: "\n")
    }

    /// Python's `text % arguments` for the conversions templates use: %s %r %d %i %f %x %o %e %%,
    /// with flags, width and precision; `%(name)s` takes a field of a single dict argument.
    static func percentFormat(_ text: String, _ arguments: [JinjaValue]) throws -> String {
        var out = "", next = 0, usedKeys = false
        var scalars = Array(text.unicodeScalars)[...]
        while let c = scalars.popFirst() {
            guard c == "%" else { out.unicodeScalars.append(c); continue }
            var key: String?
            if scalars.first == "(" {
                scalars.removeFirst()
                let name = scalars.prefix { $0 != ")" }
                scalars = scalars.dropFirst(name.count + 1)
                key = String(String.UnicodeScalarView(name))
                usedKeys = true
            }
            let spec = scalars.prefix { "-+ #0123456789.".unicodeScalars.contains($0) }
            scalars = scalars.dropFirst(spec.count)
            guard let conversion = scalars.popFirst() else { throw EvaluationError("incomplete format") }
            if conversion == "%" { out += "%"; continue }
            let argument: JinjaValue
            if let key {
                guard case .dict(let fields)? = arguments.first, let field = fields[key] else { throw EvaluationError("format key '\(key)' is missing") }
                argument = field
            } else {
                guard next < arguments.count else { throw EvaluationError("not enough arguments for format string") }
                argument = arguments[next]
                next += 1
            }
            out += try convert(argument, spec: String(String.UnicodeScalarView(spec)), conversion: Character(conversion))
        }
        if next < arguments.count, !usedKeys { throw EvaluationError("not all arguments converted during string formatting") }
        return out
    }

    private static func convert(_ value: JinjaValue, spec: String, conversion: Character) throws -> String {
        let left = spec.contains("-"), zero = spec.hasPrefix("0") || spec.contains("+0") || spec.contains(" 0")
        let plus = spec.contains("+"), numbers = spec.drop { "-+ #0".contains($0) }.split(separator: ".", omittingEmptySubsequences: false)
        let width = Int(numbers.first ?? "") ?? 0, precision = numbers.count > 1 ? Int(numbers[1]) ?? 0 : nil
        var body: String
        switch conversion {
        case "s": body = value.text; if let precision { body = String(body.prefix(precision)) }
        case "r": body = value.repr
        case "d", "i", "x", "X", "o":
            guard let number = value.number else { throw EvaluationError("%\(conversion) format: a number is required, not \(value.typeName)") }
            let n = Int(number.rounded(.towardZero))
            let radix = conversion == "d" || conversion == "i" ? 10 : conversion == "o" ? 8 : 16
            body = String(abs(n), radix: radix, uppercase: conversion == "X")
            body = (n < 0 ? "-" : plus ? "+" : "") + body
        case "f", "F", "e", "E":
            guard let number = value.number else { throw EvaluationError("%\(conversion) format: a number is required, not \(value.typeName)") }
            body = String(format: "%\(plus ? "+" : "").\(precision ?? 6)\(conversion)", number)
        default: throw EvaluationError("unsupported format character '\(conversion)'")
        }
        let padding = max(0, width - body.unicodeScalars.count)
        if left { return body + String(repeating: " ", count: padding) }
        if zero, conversion != "s", conversion != "r" {
            let sign = body.hasPrefix("-") || body.hasPrefix("+") ? String(body.prefix(1)) : ""
            return sign + String(repeating: "0", count: padding) + body.dropFirst(sign.count)
        }
        return String(repeating: " ", count: padding) + body
    }

    /// Jinja's truncate: at most `length` characters (plus a leeway of 5), cut at a word unless killwords.
    private static func truncate(_ text: String, _ args: CallArguments) -> String {
        let length = Filters.integer(args.value(0, "length")) ?? 255
        let killwords = args.value(1, "killwords")?.isTruthy ?? false
        let end = args.value(2, "end")?.text ?? "..."
        let leeway = Filters.integer(args.value(3, "leeway")) ?? 5
        let scalars = Array(text.unicodeScalars)
        guard scalars.count > length + leeway else { return text }
        let kept = String(String.UnicodeScalarView(scalars.prefix(max(0, length - end.unicodeScalars.count))))
        if killwords { return kept + end }
        guard let space = kept.range(of: " ", options: .backwards) else { return kept + end }
        return String(kept[..<space.lowerBound]) + end
    }

    /// markupsafe's striptags: comments and tags removed, entities decoded, whitespace collapsed.
    private static func stripTags(_ text: String) -> String {
        var out = "", rest = Substring(text)
        while let open = rest.firstIndex(of: "<") {
            out += rest[..<open]
            let isComment = rest[open...].hasPrefix("<!--")
            guard let close = rest[open...].range(of: isComment ? "-->" : ">") else { rest = rest[open...]; break }
            rest = rest[close.upperBound...]
        }
        out += rest
        return decodeEntities(out).split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
    }

    private static func decodeEntities(_ text: String) -> String {
        let named = ["amp": "&", "lt": "<", "gt": ">", "quot": "\"", "apos": "'", "nbsp": "\u{A0}"]
        var out = "", rest = Substring(text)
        while let amp = rest.firstIndex(of: "&") {
            out += rest[..<amp]
            let after = rest[rest.index(after: amp)...]
            if let semicolon = after.prefix(12).firstIndex(of: ";") {
                let entity = String(after[..<semicolon])
                var decoded: String?
                if entity.hasPrefix("#x") || entity.hasPrefix("#X") { decoded = UInt32(entity.dropFirst(2), radix: 16).flatMap(Unicode.Scalar.init).map(String.init) }
                else if entity.hasPrefix("#") { decoded = UInt32(entity.dropFirst()).flatMap(Unicode.Scalar.init).map(String.init) }
                else { decoded = named[entity] }
                if let decoded {
                    out += decoded
                    rest = after[after.index(after: semicolon)...]
                    continue
                }
            }
            out += "&"
            rest = after
        }
        return out + rest
    }

    /// Jinja's filesizeformat: decimal (kB, MB, ...) or binary (KiB, MiB, ...) prefixes, one decimal.
    private static func fileSize(_ value: JinjaValue, binary: Bool) throws -> String {
        guard let bytes = Filters.float(value, default: .none).number else { throw EvaluationError("filesizeformat needs a number") }
        let base: Double = binary ? 1024 : 1000
        let prefixes = binary ? ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"] : ["kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"]
        if bytes == 1 { return "1 Byte" }
        if bytes < base { return "\(Int(bytes)) Bytes" }
        var unit = base
        for prefix in prefixes {
            unit *= base
            if bytes < unit || prefix == prefixes.last { return String(format: "%.1f %@", base * bytes / unit, prefix) }
        }
        return ""
    }

    /// Jinja's urlencode: a string percent-encoded (keeping "/"), or a dict / list of pairs as a query string.
    private static func urlencode(_ value: JinjaValue) throws -> String {
        func quote(_ s: String, query: Bool) -> String {
            // Jinja's url_quote: "/" kept in a path, spaces as "+" in a query string.
            var allowed = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-~")
            if !query { allowed.insert("/") } else { allowed.insert(" ") }
            let encoded = s.addingPercentEncoding(withAllowedCharacters: allowed) ?? s
            return query ? encoded.replacingOccurrences(of: " ", with: "+") : encoded
        }
        switch value {
        case .string(let s): return quote(s, query: false)
        case .dict(let dict): return dict.pairs.map { quote($0.0, query: true) + "=" + quote($0.1.text, query: true) }.joined(separator: "&")
        default:
            return try Operations.iterate(value).map { pair in
                let parts = try Operations.iterate(pair)
                guard parts.count == 2 else { throw EvaluationError("urlencode needs a string, a mapping or pairs") }
                return quote(parts[0].text, query: true) + "=" + quote(parts[1].text, query: true)
            }.joined(separator: "&")
        }
    }

    /// Jinja's xmlattr: key="value" pairs of a dict (none and undefined values left out), escaped.
    private static func xmlattr(_ value: JinjaValue, autospace: Bool) throws -> JinjaValue {
        guard case .dict(let dict) = value else { throw EvaluationError("xmlattr needs a mapping") }
        var parts: [String] = []
        for (key, item) in dict.pairs where !(item == .none) && !item.isUndefined {
            guard !key.isEmpty, !key.unicodeScalars.contains(where: { $0.properties.isWhitespace || "/>=".unicodeScalars.contains($0) }) else {
                throw EvaluationError("Invalid character in attribute name: \(key.debugDescription)")
            }
            parts.append("\(Filters.escaped(key))=\"\(Filters.escaped(item.text))\"")
        }
        let text = parts.joined(separator: " ")
        return .markup(autospace && !text.isEmpty ? " " + text : text)
    }
}
