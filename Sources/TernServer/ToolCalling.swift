// A chat request's tools: whether the reply is read for tool calls (tool_choice "auto", the
// default when tools are given), in which format, and the calls as OpenAI's API shapes them.
import Foundation
import TernConstraints
import TernEngine
import TernFormats

struct ToolCalling {
    let format: ToolCallFormat
    /// parallel_tool_calls: false keeps only a reply's first call.
    let parallel: Bool
    /// tool_choice "required" or a named function: the reply is constrained to calls in the format.
    let forced: ConstraintSpec?

    /// The plan for a request, or nil when its reply is plain text (no tools, or tool_choice "none").
    static func plan(_ fields: RequestFields, server: ModelServer) throws -> ToolCalling? {
        let choice = fields.value("tool_choice")
        guard let tools = fields.value("tools")?.arrayValue, !tools.isEmpty else {
            if let choice, choice.stringValue != "none" {
                throw APIError.badRequest("'tool_choice' \(choice.serialized) needs 'tools'", param: "tool_choice")
            }
            return nil
        }
        var functions = try tools.enumerated().map { try function($1, index: $0) }
        var parallel = try fields.bool("parallel_tool_calls") ?? true
        var isForced = false
        switch choice {
        case nil, .string("auto")?: break
        case .string("none")?: return nil
        case .string("required")?: isForced = true
        case .object(let named)?:
            guard named["type"]?.stringValue == "function", let name = named["function"]?["name"]?.stringValue else {
                throw APIError.badRequest("'tool_choice' must be \"none\", \"auto\", \"required\" or {\"type\": \"function\", \"function\": {\"name\": ...}}",
                                          param: "tool_choice")
            }
            guard let chosen = functions.first(where: { $0.name == name }) else {
                throw APIError.badRequest("'tool_choice' names function '\(name)', which is not among 'tools'", param: "tool_choice")
            }
            functions = [chosen]
            parallel = false
            isForced = true
        default:
            throw APIError.badRequest("'tool_choice' must be \"none\", \"auto\", \"required\" or a named function", param: "tool_choice")
        }
        guard let format = server.toolCallFormat else {
            throw APIError.badRequest("this model's tool-call format is not known: start the server with --tool-call-parser (\(ToolCallFormat.names)) "
                                      + "to read tool calls, or send tool_choice \"none\"", param: "tools")
        }
        var forced: ConstraintSpec?
        if isForced {
            let grammar: Grammar
            do { grammar = try format.callsGrammar(functions, parallel: parallel) } catch let error as ConstraintError {
                throw APIError.badRequest("'tools': \(error.message)", param: error.keyword.map { "tools.parameters.\($0)" } ?? "tools")
            }
            let key = JSONValue.array(functions.map { ["name": .string($0.name), "parameters": $0.parameters] }).serialized
            forced = .built(key: "tools:\(format.rawValue):\(parallel):\(key)", grammar)
        }
        return ToolCalling(format: format, parallel: parallel, forced: forced)
    }

    /// A `tools` entry, {"type": "function", "function": {"name": ..., "parameters": {...}}}.
    private static func function(_ tool: JSONValue, index: Int) throws -> CallableFunction {
        guard tool["type"]?.stringValue == "function", let function = tool["function"],
              let name = function["name"]?.stringValue, !name.isEmpty else {
            throw APIError.badRequest("'tools[\(index)]' must be {\"type\": \"function\", \"function\": {\"name\": ..., \"parameters\": ...}}", param: "tools")
        }
        let parameters = function["parameters"].flatMap { $0.isNull ? nil : $0 }
        if let parameters, parameters.objectValue == nil {
            throw APIError.badRequest("'tools[\(index)].function.parameters' must be a JSON schema object", param: "tools")
        }
        return CallableFunction(name: name, parameters: parameters)
    }

    /// Text a reply is read after: the marker a forced reply's grammar leaves out.
    private var replyPrefix: String { forced == nil ? "" : format.forcedReplyPrefix }

    func reply(_ text: String) -> ToolCallReply {
        let reply = format.parse(replyPrefix + text)
        return parallel ? reply : ToolCallReply(content: reply.content, calls: Array(reply.calls.prefix(1)))
    }

    /// A stream reader for one choice, already past the prefix.
    func makeStream() -> ToolCallStream {
        var stream = ToolCallStream(format: format, streamsArguments: forced != nil)
        _ = stream.feed(replyPrefix)
        return stream
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
