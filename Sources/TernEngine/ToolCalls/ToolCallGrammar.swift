// tool_choice "required" or a named function: the reply is forced to be calls in the model's own
// format, each call's arguments valid for its function's parameter schema. Formats whose marker
// is a control token (Mistral's [TOOL_CALLS]) cannot have it generated under a text constraint;
// the grammar then starts after the marker and the reply is read as if it had been written.
import TernConstraints
import TernFormats

/// A function a reply may call: its name and the JSON schema of its arguments.
public struct CallableFunction: Sendable {
    public let name: String
    public let parameters: JSONValue

    public init(name: String, parameters: JSONValue?) {
        self.name = name
        // No parameters declared: the call takes none, `{}`.
        self.parameters = parameters ?? ["type": "object", "properties": .object(JSONObject()), "additionalProperties": false]
    }
}

extension ToolCallFormat {
    /// The text a forced reply is read after (the marker the grammar leaves out).
    public var forcedReplyPrefix: String { self == .mistral ? "[TOOL_CALLS]" : "" }

    /// Replies made only of calls to `functions` (one call, or with `parallel` one or more).
    public func callsGrammar(_ functions: [CallableFunction], parallel: Bool) throws -> Grammar {
        guard !functions.isEmpty else { throw ConstraintError("no function to call") }
        var rules: [String: GrammarExpression] = [:]
        var calls: [GrammarExpression] = []
        for (index, function) in functions.enumerated() {
            let namespace = "f\(index)-"
            if self == .chatglm3 {
                let arguments = try JSONSchemaGrammar.keywordArguments(for: function.parameters, namespace: namespace, into: &rules)
                calls.append(.sequence([.literal("\(function.name)\n```python\ntool_call("), arguments, .literal(")\n```")]))
                continue
            }
            let arguments = try JSONSchemaGrammar.expression(for: function.parameters, namespace: namespace, into: &rules)
            let argumentsKey = self == .llama3JSON ? "parameters" : "arguments"
            let object = GrammarExpression.sequence([
                .literal("{\"name\": \(JSONValue.quoted(function.name)), \"\(argumentsKey)\": "), arguments, .literal("}"),
            ])
            calls.append(self == .hermes ? .sequence([.literal("<tool_call>\n"), object, .literal("\n</tool_call>")]) : object)
        }
        rules["call"] = .choice(calls)
        let call = GrammarExpression.reference("call")
        // ChatGLM3 makes one call per turn.
        let more = parallel && self != .chatglm3
            ? GrammarExpression.repeated(.sequence([.literal(callSeparator), call]), min: 0, max: nil) : .empty
        switch self {
        case .mistral: rules["root"] = .sequence([.literal("["), call, more, .literal("]")])
        default: rules["root"] = .sequence([call, more])
        }
        return Grammar(rules: rules, root: "root")
    }

    private var callSeparator: String {
        switch self {
        case .hermes: return "\n"
        case .llama3JSON: return "; "
        case .mistral: return ", "
        case .chatglm3: return ""
        }
    }
}
