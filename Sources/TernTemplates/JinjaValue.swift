// Values a template works with, following Python's semantics where templates rely on them
// (truthiness, equality, str() and repr() output).
import Foundation
import TernFormats

public final class JinjaNamespace: @unchecked Sendable {
    var attributes: JinjaDict
    init(_ attributes: JinjaDict) { self.attributes = attributes }
}

public struct JinjaCallable: @unchecked Sendable {
    let name: String
    let call: (_ arguments: CallArguments) throws -> JinjaValue
}

public struct CallArguments {
    var positional: [JinjaValue]
    var named: [(String, JinjaValue)]

    /// The argument at `index`, or the one passed by `name`.
    func value(_ index: Int, _ name: String) -> JinjaValue? {
        if index < positional.count { return positional[index] }
        return named.first { $0.0 == name }?.1
    }
}

public indirect enum JinjaValue: @unchecked Sendable {
    /// A name that was never defined; prints as nothing, fails when used as an object.
    case undefined(String)
    case none
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    /// A string marked safe (the `safe` and `escape` filters): joined with `+` to a plain string, the
    /// plain one is HTML-escaped, as markupsafe's Markup does in Jinja.
    case markup(String)
    case array([JinjaValue])
    /// A Python tuple (dictsort and items pairs, partition's parts, groupby's groups): a list that
    /// prints in parentheses and equals only tuples.
    case tuple([JinjaValue])
    /// What Jinja's select/reject/map filters return: a one-pass generator, always true, without a
    /// length, that json cannot encode; iterating or `list` gives its items.
    case generator([JinjaValue])
    case dict(JinjaDict)
    case namespace(JinjaNamespace)
    case callable(JinjaCallable)

    public init(_ json: JSONValue) {
        switch json {
        case .null: self = .none
        case .bool(let b): self = .bool(b)
        case .int(let i): self = .int(i)
        case .double(let d): self = .double(d)
        case .string(let s): self = .string(s)
        case .array(let a): self = .array(a.map(JinjaValue.init))
        case .object(let o): self = .dict(JinjaDict(o.pairs.map { ($0.key, JinjaValue($0.value)) }))
        }
    }

    /// The value with a Markup string as a plain string and a tuple as a list, for everything that
    /// treats them alike.
    var plain: JinjaValue {
        switch self {
        case .markup(let s): return .string(s)
        case .tuple(let items): return .array(items)
        default: return self
        }
    }

    var isUndefined: Bool {
        if case .undefined = self { return true }
        return false
    }

    var isTruthy: Bool {
        switch self {
        case .undefined, .none: return false
        case .bool(let b): return b
        case .int(let i): return i != 0
        case .double(let d): return d != 0
        case .string(let s), .markup(let s): return !s.isEmpty
        case .array(let a), .tuple(let a): return !a.isEmpty
        case .generator: return true
        case .dict(let d): return d.count > 0
        case .namespace, .callable: return true
        }
    }

    /// Python's str(): what `{{ value }}` prints.
    var text: String {
        switch self {
        case .undefined: return ""
        case .string(let s), .markup(let s): return s
        default: return repr
        }
    }

    /// Python's repr() of the value, for code that writes Python literals.
    public var pythonRepr: String { repr }

    /// Python's repr(), used for values inside printed lists and dicts.
    var repr: String {
        switch self {
        case .undefined: return ""
        case .none: return "None"
        case .bool(let b): return b ? "True" : "False"
        case .int(let i): return String(i)
        case .double(let d): return Self.pythonFloat(d)
        case .string(let s): return Self.pythonQuoted(s)
        case .markup(let s): return "Markup(\(Self.pythonQuoted(s)))"
        case .array(let a): return "[" + a.map(\.repr).joined(separator: ", ") + "]"
        case .tuple(let a): return "(" + a.map(\.repr).joined(separator: ", ") + (a.count == 1 ? ",)" : ")")
        case .generator: return "<generator object>"
        case .dict(let d): return "{" + d.keyValuePairs.map { "\($0.0.repr): \($0.1.repr)" }.joined(separator: ", ") + "}"
        case .namespace(let n): return "<Namespace " + n.attributes.pairs.map { "\($0.0)=\($0.1.repr)" }.joined(separator: ", ") + ">"
        case .callable(let c): return "<function \(c.name)>"
        }
    }

    static func pythonFloat(_ d: Double) -> String {
        if d.isNaN { return "nan" }
        if d.isInfinite { return d > 0 ? "inf" : "-inf" }
        let text = "\(d)"
        return text.contains(".") || text.contains("e") ? text : text + ".0"
    }

    static func pythonQuoted(_ s: String) -> String {
        let quote = s.contains("'") && !s.contains("\"") ? "\"" : "'"
        var out = quote
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where String(scalar) == quote: out += "\\" + quote
            case _ where scalar.value < 0x20 || scalar.value == 0x7F: out += String(format: "\\x%02x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + quote
    }

    var typeName: String {
        switch self {
        case .undefined: return "undefined"
        case .none: return "NoneType"
        case .bool: return "bool"
        case .int: return "int"
        case .double: return "float"
        case .string: return "str"
        case .markup: return "Markup"
        case .array: return "list"
        case .tuple: return "tuple"
        case .generator: return "generator"
        case .dict: return "dict"
        case .namespace: return "Namespace"
        case .callable: return "function"
        }
    }
}

extension JinjaValue: Equatable {
    /// Python equality: 1 == 1.0, lists and dicts compare by content, a Markup string equals its
    /// plain text, undefined equals undefined (Jinja's Undefined.__eq__) and nothing else.
    public static func == (a: JinjaValue, b: JinjaValue) -> Bool {
        switch (a, b) {
        case (.tuple(let x), .tuple(let y)): return x == y
        case (.tuple, _), (_, .tuple): return false
        default: break
        }
        switch (a.plain, b.plain) {
        case (.undefined, .undefined): return true
        case (.none, .none): return true
        case (.bool(let x), .bool(let y)): return x == y
        case (.int(let x), .int(let y)): return x == y
        case (.string(let x), .string(let y)): return x == y
        case (.array(let x), .array(let y)): return x == y
        case (.dict(let x), .dict(let y)): return x.count == y.count && x.pairs.allSatisfy { y[$0.0] == $0.1 }
        case (.namespace(let x), .namespace(let y)): return x === y
        default:
            if let x = a.number, let y = b.number { return x == y }
            return false
        }
    }

    /// A numeric view (bools count as 0/1, as in Python).
    var number: Double? {
        switch self {
        case .int(let i): return Double(i)
        case .double(let d): return d
        case .bool(let b): return b ? 1 : 0
        default: return nil
        }
    }
}

/// An insertion-ordered dictionary, looked up by the text of its keys, like the dicts JSON messages
/// become; a key written as a number in a template's dict literal stays a number when the template
/// iterates the dict.
public struct JinjaDict {
    private(set) var keys: [String] = []
    private var storage: [String: JinjaValue] = [:]
    private var keyValues: [String: JinjaValue] = [:]

    init(_ pairs: [(String, JinjaValue)] = []) {
        for (key, value) in pairs { self[key] = value }
    }

    subscript(key: String) -> JinjaValue? {
        get { storage[key] }
        set {
            if storage[key] == nil, newValue != nil { keys.append(key) }
            if newValue == nil, storage[key] != nil { keys.removeAll { $0 == key } }
            storage[key] = newValue
        }
    }

    /// Stores `value` under `key`, remembering a key that is not a string.
    mutating func set(_ key: JinjaValue, _ value: JinjaValue) {
        self[key.text] = value
        if case .string = key.plain {} else { keyValues[key.text] = key }
    }

    /// The key as the template wrote it.
    func key(_ text: String) -> JinjaValue { keyValues[text] ?? .string(text) }

    var pairs: [(String, JinjaValue)] { keys.map { ($0, storage[$0]!) } }
    var keyValuePairs: [(JinjaValue, JinjaValue)] { keys.map { (key($0), storage[$0]!) } }
    var count: Int { keys.count }
}
