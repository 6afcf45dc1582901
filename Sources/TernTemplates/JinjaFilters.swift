// Jinja's built-in filters (`x | trim`, `messages | selectattr('role', 'equalto', 'user')`, ...),
// resolved when they run as Jinja does: an unknown filter in a branch that is never taken is no error.
// Collections are in JinjaCollectionFilters.swift, text in JinjaTextFilters.swift.
import Foundation

enum Filters {
    static let known: Set<String> = [
        "abs", "attr", "batch", "capitalize", "center", "count", "d", "default", "dictsort", "e", "escape", "filesizeformat", "first",
        "float", "forceescape", "format", "groupby", "indent", "int", "items", "join", "last", "length", "list", "lower", "map", "max",
        "min", "pprint", "random", "reject", "rejectattr", "replace", "reverse", "round", "safe", "select", "selectattr", "slice", "sort",
        "string", "striptags", "sum", "title", "tojson", "trim", "truncate", "unique", "upper", "urlencode", "wordcount", "xmlattr",
    ]

    static func apply(_ name: String, _ value: JinjaValue, _ args: CallArguments, interpreter: JinjaInterpreter) throws -> JinjaValue {
        // Filters that keep or make Markup strings see the value as it is; the rest treat Markup as text.
        switch name {
        case "safe": return .markup(value.text)
        case "string": if case .markup = value { return value } else { return .string(value.text) }
        case "escape", "e": if case .markup = value { return value } else { return .markup(escaped(value.text)) }
        case "forceescape": return .markup(escaped(value.text))
        case "default", "d":
            let useDefault = value.isUndefined || ((args.value(1, "boolean")?.isTruthy ?? false) && !value.isTruthy)
            return useDefault ? (args.value(0, "default_value") ?? .string("")) : value
        default: break
        }
        let value = value.plain
        switch name {
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
            return .string(Methods.strip(string(value), chars: chars))
        case "upper": return .string(string(value).uppercased())
        case "lower": return .string(string(value).lowercased())
        case "capitalize": return .string(Methods.capitalize(string(value)))
        case "title": return .string(title(string(value)))
        case "center":
            return .string(Methods.pad(string(value), width: integer(args.value(0, "width")) ?? 80, fill: " ", how: "center"))
        case "replace":
            guard let old = args.value(0, "old")?.text, let new = args.value(1, "new")?.text else {
                throw EvaluationError("replace needs two arguments")
            }
            return .string(Methods.replace(value.text, old, new, count: integer(args.value(2, "count")) ?? -1))
        case "int": return int(value, default: args.value(0, "default") ?? .int(0))
        case "float": return float(value, default: args.value(0, "default") ?? .double(0))
        case "abs":
            if case .int(let i) = value { return .int(abs(i)) }
            guard let d = value.number else { throw EvaluationError("bad operand type for abs(): '\(value.typeName)'") }
            return .double(abs(d))
        case "round":
            let digits = integer(args.value(0, "precision")) ?? 0
            guard let d = value.number else { throw EvaluationError("round needs a number") }
            let scale = pow(10, Double(digits))
            switch args.value(1, "method")?.text ?? "common" {
            case "common":
                // Python's round: to the nearest of the exact binary value, as printf rounds (2.675 -> 2.67).
                if digits >= 0, d.isFinite { return .double(Double(String(format: "%.\(digits)f", d)) ?? d) }
                return .double((d * scale).rounded(.toNearestOrEven) / scale)
            case "ceil": return .double((d * scale).rounded(.up) / scale)
            case "floor": return .double((d * scale).rounded(.down) / scale)
            default: throw EvaluationError("method must be common, ceil or floor")
            }
        case "tojson":
            // transformers' tojson: json.dumps(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False).
            return .string(try JinjaJSON.encode(value, indent: args.value(1, "indent"), separators: args.value(2, "separators"),
                                                asciiOnly: args.value(0, "ensure_ascii")?.isTruthy ?? false,
                                                sortKeys: args.value(3, "sort_keys")?.isTruthy ?? false))
        case "pprint": return .string(value.repr)
        case "attr": return try Operations.attribute(value, args.value(0, "name")?.text ?? "")
        case "indent", "format", "truncate", "wordcount", "striptags", "filesizeformat", "urlencode", "xmlattr":
            return try TextFilters.apply(name, value, args)
        default:
            return try CollectionFilters.apply(name, value, args, interpreter: interpreter)
        }
    }

    /// markupsafe's escape: the five characters HTML gives meaning to.
    static func escaped(_ s: String) -> String {
        var out = ""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "'": out += "&#39;"
            case "\"": out += "&#34;"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    private static func string(_ value: JinjaValue) -> String { value.isUndefined ? "" : value.text }

    static func integer(_ value: JinjaValue?) -> Int? {
        if case .int(let i)? = value { return i }
        return nil
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
}
