// The tojson filter as transformers defines it: Python's json.dumps with ensure_ascii=False,
// keys in their original order, optional indent and separators.
import TernFormats

enum JinjaJSON {
    static func encode(_ value: JinjaValue, indent: JinjaValue?, separators: JinjaValue?) throws -> String {
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
        try write(value, indent: indentText, level: 0, itemSeparator: itemSeparator, keySeparator: keySeparator, into: &out)
        return out
    }

    private static func write(_ value: JinjaValue, indent: String?, level: Int, itemSeparator: String, keySeparator: String,
                              into out: inout String) throws {
        func newline(_ depth: Int) {
            if let indent { out += "\n" + String(repeating: indent, count: depth) }
        }
        switch value {
        case .none: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .double(let d):
            out += d.isNaN ? "NaN" : d.isInfinite ? (d > 0 ? "Infinity" : "-Infinity") : JinjaValue.pythonFloat(d)
        case .string(let s): out += JSONValue.quoted(s)
        case .array(let items):
            guard !items.isEmpty else { out += "[]"; return }
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += itemSeparator }
                newline(level + 1)
                try write(item, indent: indent, level: level + 1, itemSeparator: itemSeparator, keySeparator: keySeparator, into: &out)
            }
            newline(level)
            out += "]"
        case .dict(let dict):
            guard dict.count > 0 else { out += "{}"; return }
            out += "{"
            for (i, (key, item)) in dict.pairs.enumerated() {
                if i > 0 { out += itemSeparator }
                newline(level + 1)
                out += JSONValue.quoted(key) + keySeparator
                try write(item, indent: indent, level: level + 1, itemSeparator: itemSeparator, keySeparator: keySeparator, into: &out)
            }
            newline(level)
            out += "}"
        case .namespace(let namespace):
            try write(.dict(namespace.attributes), indent: indent, level: level, itemSeparator: itemSeparator, keySeparator: keySeparator, into: &out)
        case .undefined(let name):
            throw EvaluationError("'\(name)' is undefined and cannot be converted to JSON")
        case .callable(let callable):
            throw EvaluationError("function \(callable.name) is not JSON serializable")
        }
    }
}
