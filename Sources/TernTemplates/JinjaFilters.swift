// The filters chat templates use (`x | trim`, `messages | selectattr('role', 'equalto', 'user')`, ...).
import Foundation

enum Filters {
    static let known: Set<String> = [
        "abs", "capitalize", "count", "d", "default", "first", "float", "indent", "int", "items", "join", "last",
        "length", "list", "lower", "map", "reject", "rejectattr", "replace", "reverse", "round", "safe", "select",
        "selectattr", "sort", "string", "title", "tojson", "trim", "unique", "upper",
    ]

    static func apply(_ name: String, _ value: JinjaValue, _ args: CallArguments, interpreter: JinjaInterpreter) throws -> JinjaValue {
        switch name {
        case "default", "d":
            let useDefault = value.isUndefined || ((args.value(1, "boolean")?.isTruthy ?? false) && !value.isTruthy)
            return useDefault ? (args.value(0, "default_value") ?? .string("")) : value
        case "safe", "string":
            return name == "safe" ? value : .string(value.text)
        case "length", "count":
            switch value {
            case .string(let s): return .int(s.unicodeScalars.count)
            case .array(let a): return .int(a.count)
            case .dict(let d): return .int(d.count)
            case .undefined: return .int(0)
            default: throw EvaluationError("object of type '\(value.typeName)' has no len()")
            }
        case "trim":
            let chars = args.value(0, "chars").flatMap { $0 == .none ? nil : Set($0.text.unicodeScalars) }
            return .string(Methods.strip(try string(value, name), chars: chars))
        case "upper": return .string(try string(value, name).uppercased())
        case "lower": return .string(try string(value, name).lowercased())
        case "capitalize": return .string(Methods.capitalize(try string(value, name)))
        case "title": return .string(title(try string(value, name)))
        case "replace":
            guard let old = args.value(0, "old")?.text, let new = args.value(1, "new")?.text else {
                throw EvaluationError("replace needs two arguments")
            }
            let count = args.value(2, "count").flatMap { if case .int(let i) = $0 { return i } else { return nil } } ?? -1
            return .string(Methods.replace(value.text, old, new, count: count))
        case "join":
            let separator = args.value(0, "d")?.text ?? ""
            let items = try Operations.iterate(value)
            let parts = try args.value(1, "attribute").map { attr in try items.map { try path($0, attr.text) } } ?? items
            return .string(parts.map(\.text).joined(separator: separator))
        case "first", "last":
            let items = try Operations.iterate(value)
            return (name == "first" ? items.first : items.last) ?? .undefined(name)
        case "list": return .array(try Operations.iterate(value))
        case "reverse":
            if case .string(let s) = value { return .string(String(s.reversed())) }
            return .array(try Operations.iterate(value).reversed())
        case "items":
            guard case .dict(let dict) = value else {
                if value.isUndefined { return .array([]) }
                throw EvaluationError("items filter needs a mapping, got '\(value.typeName)'")
            }
            return .array(dict.pairs.map { .array([.string($0.0), $0.1]) })
        case "int": return int(value, default: args.value(0, "default") ?? .int(0))
        case "float": return float(value, default: args.value(0, "default") ?? .double(0))
        case "abs":
            if case .int(let i) = value { return .int(abs(i)) }
            guard let d = value.number else { throw EvaluationError("bad operand type for abs(): '\(value.typeName)'") }
            return .double(abs(d))
        case "round":
            let digits = args.value(0, "precision").flatMap { if case .int(let i) = $0 { return i } else { return nil } } ?? 0
            guard let d = value.number else { throw EvaluationError("round needs a number") }
            let scale = pow(10, Double(digits))
            return .double((d * scale).rounded(.toNearestOrEven) / scale)
        case "tojson":
            return .string(try JinjaJSON.encode(value, indent: args.value(0, "indent"), separators: args.value(1, "separators")))
        case "indent": return .string(indent(value.text, args))
        case "unique": return .array(try unique(try Operations.iterate(value), args))
        case "sort": return .array(try sort(try Operations.iterate(value), args))
        case "map": return .array(try map(try Operations.iterate(value), args, interpreter: interpreter))
        case "select", "reject", "selectattr", "rejectattr":
            return .array(try select(name, try Operations.iterate(value), args))
        default:
            throw EvaluationError("unknown filter '\(name)'")
        }
    }

    private static func string(_ value: JinjaValue, _ filter: String) throws -> String {
        if value.isUndefined { return "" }
        return value.text
    }

    /// A dotted attribute path such as "function.name".
    static func path(_ value: JinjaValue, _ dotted: String) throws -> JinjaValue {
        try dotted.split(separator: ".").reduce(value) { current, part in
            if let index = Int(String(part)) { return try Operations.item(current, .int(index)) }
            return current.isUndefined ? current : try Operations.attribute(current, String(part))
        }
    }

    /// Jinja's title filter: a word starts after spaces, dashes and opening brackets.
    static func title(_ s: String) -> String {
        var out = "", atWordStart = true
        for scalar in s.unicodeScalars {
            out += atWordStart ? String(scalar).uppercased() : String(scalar).lowercased()
            atWordStart = scalar.properties.isWhitespace || "-([{<".unicodeScalars.contains(scalar)
        }
        return out
    }

    static func int(_ value: JinjaValue, default fallback: JinjaValue) -> JinjaValue {
        switch value {
        case .int: return value
        case .bool(let b): return .int(b ? 1 : 0)
        case .double(let d) where d.isFinite: return .int(Int(d))
        case .string(let s):
            let trimmed = s.trimmingCharacters(in: .whitespaces)
            if let i = Int(trimmed) { return .int(i) }
            if let d = Double(trimmed), d.isFinite { return .int(Int(d)) }
            return fallback
        default: return fallback
        }
    }

    static func float(_ value: JinjaValue, default fallback: JinjaValue) -> JinjaValue {
        if case .string(let s) = value { return Double(s.trimmingCharacters(in: .whitespaces)).map { .double($0) } ?? fallback }
        return value.number.map { .double($0) } ?? fallback
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

    private static func key(_ value: JinjaValue, attribute: JinjaValue?, caseSensitive: Bool) throws -> JinjaValue {
        let v = try attribute.map { try path(value, $0.text) } ?? value
        if !caseSensitive, case .string(let s) = v { return .string(s.lowercased()) }
        return v
    }

    private static func unique(_ items: [JinjaValue], _ args: CallArguments) throws -> [JinjaValue] {
        let caseSensitive = args.value(0, "case_sensitive")?.isTruthy ?? false
        var seen: [JinjaValue] = [], out: [JinjaValue] = []
        for item in items {
            let k = try key(item, attribute: args.value(1, "attribute"), caseSensitive: caseSensitive)
            if !seen.contains(k) { seen.append(k); out.append(item) }
        }
        return out
    }

    private static func sort(_ items: [JinjaValue], _ args: CallArguments) throws -> [JinjaValue] {
        let reverse = args.value(0, "reverse")?.isTruthy ?? false
        let caseSensitive = args.value(1, "case_sensitive")?.isTruthy ?? false
        let keyed = try items.map { (try key($0, attribute: args.value(2, "attribute"), caseSensitive: caseSensitive), $0) }
        var failure: Error?
        let sorted = keyed.sorted { a, b in
            do { return try Operations.compare(reverse ? ">" : "<", a.0, b.0) } catch { failure = error; return false }
        }
        if let failure { throw failure }
        return sorted.map(\.1)
    }

    private static func map(_ items: [JinjaValue], _ args: CallArguments, interpreter: JinjaInterpreter) throws -> [JinjaValue] {
        if let attribute = args.named.first(where: { $0.0 == "attribute" })?.1 {
            let fallback = args.named.first { $0.0 == "default" }?.1
            return try items.map { item in
                let v = try path(item, attribute.text)
                return v.isUndefined ? (fallback ?? v) : v
            }
        }
        guard let filter = args.positional.first?.text else { throw EvaluationError("map needs a filter name or attribute=") }
        guard known.contains(filter) else { throw EvaluationError("unknown filter '\(filter)'") }
        let rest = CallArguments(positional: Array(args.positional.dropFirst()), named: args.named)
        return try items.map { try apply(filter, $0, rest, interpreter: interpreter) }
    }

    private static func select(_ name: String, _ items: [JinjaValue], _ args: CallArguments) throws -> [JinjaValue] {
        let byAttribute = name.hasSuffix("attr")
        let keep = name.hasPrefix("select")
        var positional = args.positional
        let attribute = byAttribute ? positional.removeFirst().text : nil
        let test = positional.isEmpty ? nil : positional.removeFirst().text
        if let test, !TestFunctions.known.contains(test) { throw EvaluationError("unknown test '\(test)'") }
        return try items.filter { item in
            let subject = try attribute.map { try path(item, $0) } ?? item
            let passes = try test.map { try TestFunctions.apply($0, subject, positional) } ?? subject.isTruthy
            return passes == keep
        }
    }
}
