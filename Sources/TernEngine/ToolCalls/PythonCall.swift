// The keyword arguments of a Python call written with literals, `f(city="Paris", days=2)`, as a
// JSON object: what ChatGLM3 writes for a tool call (its own code eval()s it; we only read literals).
import Foundation
import TernFormats

enum PythonCall {
    static func keywordArguments(_ text: String, function: String) -> JSONValue? {
        var reader = Reader(scalars: Array(text.unicodeScalars))
        guard reader.word() == function, reader.take("(") else { return nil }
        var arguments = JSONObject()
        while !reader.take(")") {
            guard let key = reader.word(), reader.take("="), let value = reader.literal() else { return nil }
            arguments[key] = value
            if !reader.take(",") {
                guard reader.take(")") else { return nil }
                break
            }
        }
        reader.skipSpace()
        return reader.atEnd ? .object(arguments) : nil
    }

    private struct Reader {
        let scalars: [Unicode.Scalar]
        var index = 0

        var atEnd: Bool { index >= scalars.count }

        mutating func skipSpace() {
            while index < scalars.count, scalars[index].properties.isWhitespace { index += 1 }
        }

        mutating func take(_ symbol: Unicode.Scalar) -> Bool {
            skipSpace()
            guard index < scalars.count, scalars[index] == symbol else { return false }
            index += 1
            return true
        }

        mutating func word() -> String? {
            skipSpace()
            let start = index
            while index < scalars.count, scalars[index] == "_" || scalars[index].properties.isAlphabetic
                || (index > start && scalars[index].properties.numericType != nil) { index += 1 }
            return index > start ? String(String.UnicodeScalarView(scalars[start..<index])) : nil
        }

        mutating func literal() -> JSONValue? {
            skipSpace()
            guard index < scalars.count else { return nil }
            let c = scalars[index]
            if c == "\"" || c == "'" { return string(quote: c) }
            if c == "[" || c == "(" { return list(closing: c == "[" ? "]" : ")") }
            if c == "{" { return dict() }
            if let name = word() {
                switch name {
                case "True": return .bool(true)
                case "False": return .bool(false)
                case "None": return .null
                default: return nil
                }
            }
            return number()
        }

        private mutating func string(quote: Unicode.Scalar) -> JSONValue? {
            index += 1
            var out = String.UnicodeScalarView()
            while index < scalars.count {
                let c = scalars[index]
                index += 1
                if c == quote { return .string(String(out)) }
                guard c == "\\" else { out.append(c); continue }
                guard index < scalars.count else { return nil }
                let escaped = scalars[index]
                index += 1
                switch escaped {
                case "n": out.append("\n")
                case "t": out.append("\t")
                case "r": out.append("\r")
                case "u", "x":
                    let digits = escaped == "u" ? 4 : 2
                    guard index + digits <= scalars.count,
                          let code = UInt32(String(String.UnicodeScalarView(scalars[index..<index + digits])), radix: 16),
                          let scalar = Unicode.Scalar(code) else { return nil }
                    out.append(scalar)
                    index += digits
                default: out.append(escaped)
                }
            }
            return nil
        }

        private mutating func list(closing: Unicode.Scalar) -> JSONValue? {
            index += 1
            var items: [JSONValue] = []
            while !take(closing) {
                guard let item = literal() else { return nil }
                items.append(item)
                if !take(",") {
                    guard take(closing) else { return nil }
                    break
                }
            }
            return .array(items)
        }

        private mutating func dict() -> JSONValue? {
            index += 1
            var object = JSONObject()
            while !take("}") {
                guard let key = literal()?.stringValue, take(":"), let value = literal() else { return nil }
                object[key] = value
                if !take(",") {
                    guard take("}") else { return nil }
                    break
                }
            }
            return .object(object)
        }

        private mutating func number() -> JSONValue? {
            let start = index
            while index < scalars.count, "+-0123456789.eE_".unicodeScalars.contains(scalars[index]) { index += 1 }
            let text = String(String.UnicodeScalarView(scalars[start..<index])).replacingOccurrences(of: "_", with: "")
            if let int = Int(text) { return .int(int) }
            return Double(text).map { .double($0) }
        }
    }
}
