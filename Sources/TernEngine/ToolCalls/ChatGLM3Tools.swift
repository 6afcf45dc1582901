// Tools in ChatGLM3's own chat format, as its repository's build_chat_input and tool demo lay them
// out: the system message lists the functions as json.dumps(tools, indent=4, ensure_ascii=False),
// and an earlier call is an assistant turn whose metadata names the tool and whose text is the
// Python call the model wrote (read back by ToolCallFormat.chatglm3).
import TernFormats
import TernTemplates

enum ChatGLM3Tools {
    /// The system prompt ChatGLM3's tool demo opens with when none is given.
    static let preamble = "Answer the following questions as best as you can. You have access to the following tools:"

    /// OpenAI's `{"type": "function", "function": {...}}` entries as the bare function objects ChatGLM3 lists.
    static func listing(_ tools: [JSONValue]) throws -> String {
        let functions = tools.map { $0["function"] ?? $0 }
        return try JinjaTemplate("{{ tools | tojson(indent=4) }}").render(["tools": JinjaValue(.array(functions))])
    }

    static func callName(_ call: JSONValue) throws -> String {
        guard let name = call["function"]?["name"]?.stringValue else { throw EngineError("a tool call needs a function name") }
        return name
    }

    /// ```` ```python\ntool_call(city='Paris', days=2)\n``` ````: the arguments as Python keyword arguments.
    static func callText(_ call: JSONValue) throws -> String {
        var arguments = call["function"]?["arguments"] ?? .object(JSONObject())
        if let text = arguments.stringValue { arguments = text.isEmpty ? .object(JSONObject()) : try JSONParser.parse(text) }
        guard let object = arguments.objectValue else { throw EngineError("a tool call's arguments must be a JSON object") }
        let keywords = object.pairs.map { "\($0.key)=\(JinjaValue($0.value).pythonRepr)" }.joined(separator: ", ")
        return "```python\ntool_call(\(keywords))\n```"
    }
}
