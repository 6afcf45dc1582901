// The pieces of JSON text every JSON constraint is made of: strings, numbers, literals, the
// spacing allowed between tokens, and any JSON value (for `{}` schemas and json_object).
// Python literal syntax (True/False/None, fewer escapes) shares them for ChatGLM3's tool calls.
import TernFormats

public enum JSONSyntax: Sendable {
    case json
    /// Python literals as ChatGLM3 writes a call's arguments (`f(a="x", b=True)`).
    case python

    var trueLiteral: String { self == .json ? "true" : "True" }
    var falseLiteral: String { self == .json ? "false" : "False" }
    var nullLiteral: String { self == .json ? "null" : "None" }

    /// After `:` and `,`: one optional space, as json.dumps writes it. Unlimited whitespace would let
    /// a model pad forever; none at all would fight how models write JSON.
    static let separatorSpace = GrammarExpression.optional(.literal(" "))

    /// One character of a string's body: an unescaped character or an escape sequence.
    var stringCharacter: GrammarExpression {
        let hex = GrammarExpression.character(in: CodePointSet([48...57, 65...70, 97...102]))
        let simple = self == .json ? "\"\\/bfnrt" : "\"\\nrt"
        return .choice([
            .character(in: JSONStringGrammar.plain),
            .sequence([.literal("\\"), .choice(simple.map { .literal(String($0)) })]),
            .sequence([.literal("\\u"), .repeated(hex, min: 4, max: 4)]),
        ])
    }

    /// A quoted string of `minLength...maxLength` characters (an escape counts as one).
    func string(minLength: Int = 0, maxLength: Int? = nil) -> GrammarExpression {
        .sequence([.literal("\""), .repeated(stringCharacter, min: minLength, max: maxLength), .literal("\"")])
    }

    /// Any JSON number; digit runs are capped so a model cannot write digits forever.
    var number: GrammarExpression {
        let digit = GrammarExpression.character(in: CodePointSet([48...57]))
        return .sequence([
            .optional(.literal("-")),
            NumberGrammar.unsignedInteger,
            .optional(.sequence([.literal("."), .repeated(digit, min: 1, max: NumberGrammar.maxDigits)])),
            .optional(.sequence([.choice([.literal("e"), .literal("E")]), .optional(.choice([.literal("+"), .literal("-")])),
                                 .repeated(digit, min: 1, max: 3)])),
        ])
    }

    /// `value` for any JSON value, with the rules it needs added to `rules`.
    func anyValue(into rules: inout [String: GrammarExpression]) -> GrammarExpression {
        let prefix = self == .json ? "json" : "python"
        let value = "\(prefix)-value", object = "\(prefix)-object", array = "\(prefix)-array"
        if rules[value] == nil {
            let comma = GrammarExpression.sequence([.literal(","), Self.separatorSpace])
            let member = GrammarExpression.sequence([string(), .literal(":"), Self.separatorSpace, .reference(value)])
            rules[object] = .sequence([.literal("{"), .optional(.sequence([member, .repeated(.sequence([comma, member]), min: 0, max: nil)])),
                                       .literal("}")])
            rules[array] = .sequence([.literal("["), .optional(.sequence([.reference(value), .repeated(.sequence([comma, .reference(value)]), min: 0, max: nil)])),
                                      .literal("]")])
            rules[value] = .choice([.reference(object), .reference(array), string(), number,
                                    .literal(trueLiteral), .literal(falseLiteral), .literal(nullLiteral)])
        }
        return .reference(value)
    }

    /// `value` written out as this syntax's literal (for `enum` and `const`).
    func literal(of value: JSONValue) -> GrammarExpression { .literal(text(of: value)) }

    func text(of value: JSONValue) -> String {
        switch value {
        case .null: return nullLiteral
        case .bool(let b): return b ? trueLiteral : falseLiteral
        case .int, .double, .string: return value.serialized
        case .array(let items): return "[" + items.map(text(of:)).joined(separator: ", ") + "]"
        case .object(let object):
            return "{" + object.pairs.map { JSONValue.quoted($0.key) + ": " + text(of: $0.value) }.joined(separator: ", ") + "}"
        }
    }
}

/// What JSON strings must escape and how.
enum JSONStringGrammar {
    static let mustEscape = CodePointSet([0...0x1F, 0x22...0x22, 0x5C...0x5C])
    /// Characters a string holds as they are.
    static let plain = CodePointSet.all.subtracting(mustEscape)

    /// A character as it is written inside a JSON string.
    static func escaped(_ scalar: Unicode.Scalar) -> String {
        switch scalar {
        case "\"": return "\\\""
        case "\\": return "\\\\"
        case "\n": return "\\n"
        case "\t": return "\\t"
        case "\r": return "\\r"
        default:
            if scalar.value < 0x20 {
                let hex = String(scalar.value, radix: 16)
                return "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            }
            return String(scalar)
        }
    }
}
