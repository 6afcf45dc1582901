// A chat request's tools: whether the reply is read for tool calls (tool_choice "auto", the
// default when tools are given), in which format, and the calls as OpenAI's API shapes them.
import Foundation
import TernEngine
import TernFormats

struct ToolCalling {
    let format: ToolCallFormat
    /// parallel_tool_calls: false keeps only a reply's first call.
    let parallel: Bool

    /// The plan for a request, or nil when its reply is plain text (no tools, or tool_choice "none").
    /// "required" and named functions are refused earlier (UnsupportedFields).
    static func plan(_ fields: RequestFields, server: ModelServer) throws -> ToolCalling? {
        guard let tools = fields.value("tools")?.arrayValue, !tools.isEmpty else { return nil }
        if try fields.string("tool_choice") == "none" { return nil }
        guard let format = server.toolCallFormat else {
            throw APIError.badRequest("this model's tool-call format is not known: start the server with --tool-call-parser (\(ToolCallFormat.names)) "
                                      + "to read tool calls, or send tool_choice \"none\"", param: "tools")
        }
        return ToolCalling(format: format, parallel: try fields.bool("parallel_tool_calls") ?? true)
    }

    func reply(_ text: String) -> ToolCallReply {
        let reply = format.parse(text)
        return parallel ? reply : ToolCallReply(content: reply.content, calls: Array(reply.calls.prefix(1)))
    }

    static func newCallID() -> String {
        "call_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(24)
    }

    /// A call as a message's `tool_calls` entry.
    static func entry(_ call: ToolCall, id: String) -> JSONValue {
        ["id": .string(id), "type": "function", "function": ["name": .string(call.name), "arguments": .string(call.arguments)]]
    }

    /// Assistant messages send earlier calls' arguments as JSON text; templates expect objects (as
    /// transformers documents, and vLLM converts them too).
    static func argumentsAsObjects(_ message: JSONObject) -> JSONObject {
        guard let calls = message["tool_calls"]?.arrayValue else { return message }
        var converted = message
        converted["tool_calls"] = .array(calls.map { call in
            guard var object = call.objectValue, var function = object["function"]?.objectValue,
                  let text = function["arguments"]?.stringValue else { return call }
            if text.isEmpty { function["arguments"] = .object(JSONObject()) }
            else if let parsed = try? JSONParser.parse(text), parsed.objectValue != nil { function["arguments"] = parsed }
            object["function"] = .object(function)
            return .object(object)
        })
        return converted
    }
}
