// The tojson filter as transformers defines it: Python's json.dumps, by default with
// ensure_ascii=False and keys in their original order; indent, separators, ensure_ascii and
// sort_keys as the template asks.
import TernFormats

enum JinjaJSON {
    struct Style {
        let indent: String?
        let itemSeparator: String, keySeparator: String
        let asciiOnly: Bool, sortKeys: Bool
    }

    static func encode(_ value: JinjaValue, indent: JinjaValue?, separators: JinjaValue?, asciiOnly: Bool = false, sortKeys: Bool = false) throws -> String {
        let indentText: String?
        switch indent {
        case .int(let n)?: indentText = String(repeating: " ", count: max(0, n))
        case .string(let s)?: indentText = s
        default: indentText = nil
        }
        var itemSeparator = indentText == nil ? ", " : ",", keySeparator = ": "
        if case .array(let pair)? = separators, pair.count == 2 {
            itemSeparator = pair[0].text
            keySeparator = pair[1].text
        }
        var out = ""
        let style = Style(indent: indentText, itemSeparator: itemSeparator, keySeparator: keySeparator, asciiOnly: asciiOnly, sortKeys: sortKeys)
        try write(value, style, level: 0, into: &out)
        return out
    }

    private static func write(_ value: JinjaValue, _ style: Style, level: Int, into out: inout String) throws {
        func newline(_ depth: Int) {
            if let indent = style.indent { out += "\n" + String(repeating: indent, count: depth) }
        }
        switch value.plain {
        case .none: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .double(let d):
            out += d.isNaN ? "NaN" : d.isInfinite ? (d > 0 ? "Infinity" : "-Infinity") : JinjaValue.pythonFloat(d)
        case .string(let s): out += JSONValue.quoted(s, asciiOnly: style.asciiOnly)
        case .array(let items):
            guard !items.isEmpty else { out += "[]"; return }
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += style.itemSeparator }
                newline(level + 1)
                try write(item, style, level: level + 1, into: &out)
            }
            newline(level)
            out += "]"
        case .dict(let dict):
            guard dict.count > 0 else { out += "{}"; return }
            out += "{"
            let pairs = style.sortKeys ? dict.pairs.sorted { $0.0.unicodeScalars.lexicographicallyPrecedes($1.0.unicodeScalars) } : dict.pairs
            for (i, (key, item)) in pairs.enumerated() {
                if i > 0 { out += style.itemSeparator }
                newline(level + 1)
                out += JSONValue.quoted(key, asciiOnly: style.asciiOnly) + style.keySeparator
                try write(item, style, level: level + 1, into: &out)
            }
            newline(level)
            out += "}"
        case .namespace, .generator, .markup, .tuple:
            throw EvaluationError("Object of type \(value.typeName) is not JSON serializable")
        case .undefined(let name):
            throw EvaluationError("'\(name)' is undefined and cannot be converted to JSON")
        case .callable(let callable):
            throw EvaluationError("function \(callable.name) is not JSON serializable")
        }
    }
}
