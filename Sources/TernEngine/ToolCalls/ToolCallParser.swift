// A finished reply split into its text and its tool calls, per format. A calls part that does
// not parse leaves the whole reply as text: a malformed call is shown, never an error.
import Foundation
import TernFormats

public struct ToolCall: Equatable, Sendable {
    public let name: String
    /// The arguments as a JSON object's text.
    public let arguments: String

    public init(name: String, arguments: String) {
        self.name = name
        self.arguments = arguments
    }
}

public struct ToolCallReply: Equatable, Sendable {
    /// The text before the calls (all of it when there are none).
    public let content: String
    public let calls: [ToolCall]

    public init(content: String, calls: [ToolCall]) {
        self.content = content
        self.calls = calls
    }
}

extension ToolCallFormat {
    public func parse(_ reply: String) -> ToolCallReply {
        let plain = ToolCallReply(content: reply, calls: [])
        guard let (content, callsText) = split(reply), let calls = parseCalls(callsText), !calls.isEmpty else { return plain }
        return ToolCallReply(content: content, calls: calls)
    }

    /// The reply's text before its calls part, and the calls part (from its opening marker on).
    func split(_ reply: String) -> (String, Substring)? {
        if let opening {
            guard let range = reply.range(of: opening) else { return nil }
            return (String(reply[..<range.lowerBound]), reply[range.lowerBound...])
        }
        return startsCalls(reply[...]) == true ? ("", reply[...]) : nil
    }

    /// The calls of a calls part, or nil when it is malformed.
    func parseCalls(_ text: Substring) -> [ToolCall]? {
        switch self {
        case .hermes: return Self.hermesCalls(text)
        case .llama3JSON: return Self.llama3Calls(text)
        case .mistral: return Self.mistralCalls(text)
        case .chatglm3: return Self.chatGLM3Call(text).map { [$0] }
        }
    }

    /// A JSON object `{"name": ..., <argumentsKey>: {...}}` as a call (arguments given as a JSON string are read too).
    static func call(_ object: JSONValue, argumentKeys: [String]) -> ToolCall? {
        guard let name = object["name"]?.stringValue, !name.isEmpty else { return nil }
        var arguments: JSONValue = .object(JSONObject())
        if let found = argumentKeys.lazy.compactMap({ object[$0] }).first {
            if let text = found.stringValue { arguments = (try? JSONParser.parse(text)) ?? .null } else { arguments = found }
        }
        guard arguments.objectValue != nil else { return nil }
        return ToolCall(name: name, arguments: arguments.serialized)
    }

    private static func hermesCalls(_ text: Substring) -> [ToolCall]? {
        var calls: [ToolCall] = [], rest = text
        while let open = rest.range(of: "<tool_call>") {
            let body = rest[open.upperBound...]
            let close = body.range(of: "</tool_call>")
            // The last block may end without its closing tag when the model stopped right after it.
            guard let json = try? JSONParser.parse(String(close.map { body[..<$0.lowerBound] } ?? body)),
                  let call = call(json, argumentKeys: ["arguments", "parameters"]) else { return nil }
            calls.append(call)
            guard let close else { break }
            rest = body[close.upperBound...]
        }
        return calls
    }

    private static func llama3Calls(_ text: Substring) -> [ToolCall]? {
        var rest = text.drop { $0.isWhitespace }
        if rest.hasPrefix("<|python_tag|>") { rest = rest.dropFirst("<|python_tag|>".count) }
        var calls: [ToolCall] = []
        while true {
            rest = rest.drop { $0.isWhitespace }
            guard let end = JSONSpan.end(of: rest), let json = try? JSONParser.parse(String(rest[..<end])),
                  let call = call(json, argumentKeys: ["parameters", "arguments"]) else { return nil }
            calls.append(call)
            rest = rest[end...].drop { $0.isWhitespace }
            if rest.isEmpty { return calls }
            guard rest.first == ";" else { return nil }
            rest = rest.dropFirst()
        }
    }

    private static func mistralCalls(_ text: Substring) -> [ToolCall]? {
        var rest = text.dropFirst("[TOOL_CALLS]".count).drop { $0.isWhitespace }
        if rest.first == "[" {
            guard let json = try? JSONParser.parse(String(rest)), let list = json.arrayValue else { return nil }
            let calls = list.compactMap { call($0, argumentKeys: ["arguments", "parameters"]) }
            return calls.count == list.count ? calls : nil
        }
        // name[ARGS]{...}, repeated after further [TOOL_CALLS] markers.
        var calls: [ToolCall] = []
        while !rest.isEmpty {
            guard let args = rest.range(of: "[ARGS]") else { return nil }
            let name = rest[..<args.lowerBound].trimmingCharacters(in: .whitespaces)
            let body = rest[args.upperBound...]
            guard !name.isEmpty, let end = JSONSpan.end(of: body), let json = try? JSONParser.parse(String(body[..<end])),
                  json.objectValue != nil else { return nil }
            calls.append(ToolCall(name: name, arguments: json.serialized))
            rest = body[end...].drop { $0.isWhitespace }
            if rest.hasPrefix("[TOOL_CALLS]") { rest = rest.dropFirst("[TOOL_CALLS]".count) }
        }
        return calls
    }

    /// `name\n```python\ntool_call(key=value, ...)\n````, as ChatGLM3's own chat() reads it.
    private static func chatGLM3Call(_ text: Substring) -> ToolCall? {
        guard let newline = text.firstIndex(of: "\n") else { return nil }
        let name = text[..<newline].trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || "_.-".contains($0) }) else { return nil }
        var body = text[text.index(after: newline)...].trimmingCharacters(in: .whitespacesAndNewlines)[...]
        if body.hasPrefix("```") {
            body = body.drop { $0 != "\n" }
            if body.hasSuffix("```") { body = body.dropLast(3) }
        }
        guard let arguments = PythonCall.keywordArguments(body.trimmingCharacters(in: .whitespacesAndNewlines), function: "tool_call") else { return nil }
        return ToolCall(name: name, arguments: arguments.serialized)
    }
}

/// Where a JSON value that starts a text ends, found without parsing it: strings and nesting are
/// followed, nothing else is checked (the value is parsed afterwards).
enum JSONSpan {
    static func end(of text: Substring) -> Substring.Index? {
        var depth = 0, inString = false, escaped = false
        var index = text.startIndex
        guard let first = text.first, first == "{" || first == "[" else { return nil }
        while index < text.endIndex {
            let c = text[index]
            index = text.index(after: index)
            if inString {
                if escaped { escaped = false } else if c == "\\" { escaped = true } else if c == "\"" { inString = false }
                continue
            }
            switch c {
            case "\"": inString = true
            case "{", "[": depth += 1
            case "}", "]":
                depth -= 1
                if depth == 0 { return index }
            default: break
            }
        }
        return nil
    }
}
