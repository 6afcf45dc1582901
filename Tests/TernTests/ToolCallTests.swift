// Tool calls read from replies written the way each family writes them (the formats their chat
// templates and model cards document), whole and streamed in pieces; malformed ones stay text.
import Testing
import TernEngine
import TernFormats

@Suite struct ToolCallTests {
    static let weather = ToolCall(name: "get_weather", arguments: #"{"city":"Beijing","days":2}"#)
    static let time = ToolCall(name: "get_time", arguments: #"{"zone":"Asia/Shanghai"}"#)

    /// (format, reply, text before the calls, calls)
    static let replies: [(ToolCallFormat, String, String, [ToolCall])] = [
        (.hermes, "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Beijing\", \"days\": 2}}\n</tool_call>", "", [weather]),
        (.hermes, "Let me check.\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Beijing\", \"days\": 2}}\n</tool_call>\n"
            + "<tool_call>\n{\"name\": \"get_time\", \"arguments\": {\"zone\": \"Asia/Shanghai\"}}\n</tool_call>", "Let me check.\n", [weather, time]),
        (.hermes, "<tool_call>\n{\"name\": \"get_time\", \"arguments\": \"{\\\"zone\\\": \\\"Asia/Shanghai\\\"}\"}", "", [time]),
        (.llama3JSON, "{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Beijing\", \"days\": 2}}", "", [weather]),
        (.llama3JSON, "<|python_tag|>{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Beijing\", \"days\": 2}}; "
            + "{\"name\": \"get_time\", \"parameters\": {\"zone\": \"Asia/Shanghai\"}}", "", [weather, time]),
        (.mistral, "[TOOL_CALLS] [{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Beijing\", \"days\": 2}}, "
            + "{\"name\": \"get_time\", \"arguments\": {\"zone\": \"Asia/Shanghai\"}}]", "", [weather, time]),
        (.mistral, "Sure.[TOOL_CALLS]get_weather[ARGS]{\"city\": \"Beijing\", \"days\": 2}[TOOL_CALLS]get_time[ARGS]{\"zone\": \"Asia/Shanghai\"}",
         "Sure.", [weather, time]),
        (.chatglm3, "get_weather\n```python\ntool_call(city='Beijing', days=2)\n```", "", [weather]),
    ]

    /// Replies that are text: no call, or a call too broken to read.
    static let plain: [(ToolCallFormat, String)] = [
        (.hermes, "The weather in Beijing is sunny."),
        (.hermes, "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Beij"),
        (.hermes, "<tool_call>\n{\"arguments\": {\"city\": \"Beijing\"}}\n</tool_call>"),
        (.llama3JSON, "It is sunny in Beijing, {\"unit\": \"C\"} as you asked."),
        (.llama3JSON, "{\"name\": \"get_weather\", \"parameters\": [1, 2]}"),
        (.mistral, "[TOOL_CALLS] [{\"name\": \"get_weather\", \"arguments\": {\"city\": }]"),
        (.chatglm3, "\n北京今天晴。"),
        (.chatglm3, "get_weather\n```python\ntool_call(city=open('x'))\n```"),
    ]

    @Test func wholeRepliesSplitIntoTextAndCalls() {
        for (format, reply, content, calls) in Self.replies {
            let parsed = format.parse(reply)
            #expect(parsed.content == content, "\(format): \(reply)")
            #expect(parsed.calls == calls, "\(format): \(reply)")
        }
    }

    @Test func malformedCallsStayText() {
        for (format, reply) in Self.plain {
            #expect(format.parse(reply) == ToolCallReply(content: reply, calls: []), "\(format): \(reply)")
        }
    }

    /// Streamed in pieces of every size from 1 to 7 characters, the text and calls are those of the whole reply.
    @Test func streamingInPiecesGivesTheSameReply() {
        for (format, reply) in Self.replies.map({ ($0.0, $0.1) }) + Self.plain {
            let whole = format.parse(reply)
            for size in 1...7 {
                var stream = ToolCallStream(format: format)
                var events: [ToolCallStream.Event] = []
                var rest = Substring(reply)
                while !rest.isEmpty {
                    events += stream.feed(String(rest.prefix(size)))
                    rest = rest.dropFirst(size)
                }
                events += stream.finish()
                var content = "", names: [Int: String] = [:], arguments: [Int: String] = [:]
                for event in events {
                    switch event {
                    case .content(let text): content += text
                    case .call(let index, let name): names[index] = name
                    case .arguments(let index, let text): arguments[index, default: ""] += text
                    }
                }
                let calls = names.keys.sorted().map { ToolCall(name: names[$0]!, arguments: arguments[$0] ?? "") }
                #expect(content == whole.content && calls == whole.calls, "\(format) in pieces of \(size): \(reply)")
                #expect(stream.hasCalls == !whole.calls.isEmpty)
            }
        }
    }

    /// A forced reply's arguments go out as they are written; put together they are the call's arguments.
    @Test func forcedRepliesStreamArgumentsInPieces() throws {
        // The shapes a forced reply's grammar writes: no text, arguments as an object after the name.
        for (format, reply, text, expected) in Self.replies where format != .chatglm3 && text.isEmpty && !reply.contains("\\\"") && !reply.contains("[ARGS]") {
            var stream = ToolCallStream(format: format, streamsArguments: true)
            var events: [ToolCallStream.Event] = []
            for character in reply { events += stream.feed(String(character)) }
            events += stream.finish()
            var names: [Int: String] = [:], pieces: [Int: [String]] = [:]
            for event in events {
                switch event {
                case .content(let text): Issue.record("\(format): text \(text)")
                case .call(let index, let name): names[index] = name
                case .arguments(let index, let text): pieces[index, default: []].append(text)
                }
            }
            #expect(names.keys.sorted().map { names[$0]! } == expected.map(\.name), "\(format): \(reply)")
            for (index, call) in expected.enumerated() {
                #expect((pieces[index]?.count ?? 0) > 3, "\(format): arguments in one piece")
                let joined = try JSONParser.parse(pieces[index]?.joined() ?? "")
                #expect(joined == (try JSONParser.parse(call.arguments)), "\(format): \(reply)")
            }
        }
    }

    /// Text before a hermes call goes out before the call is complete, and the first call before the second is written.
    @Test func streamingSendsTextAndEachCallAsSoonAsTheyAreKnown() {
        var stream = ToolCallStream(format: .hermes)
        #expect(stream.feed("Let me check.\n<tool") == [.content("Let me check.\n")])
        #expect(stream.feed("_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Beijing\", \"days\": 2}}\n</tool_call>\n<tool_call>")
                == [.call(index: 0, name: "get_weather"), .arguments(index: 0, Self.weather.arguments)])
        #expect(stream.feed("\n{\"name\": \"get_time\", \"arguments\": {\"zone\": \"Asia/Shanghai\"}}\n") == [])
        #expect(stream.finish() == [.call(index: 1, name: "get_time"), .arguments(index: 1, Self.time.arguments)])
    }

    @Test func formatsAreFoundInChatTemplates() throws {
        let directory = Fixtures.root.appendingPathComponent("templates")
        func template(_ name: String) throws -> String { try String(contentsOf: directory.appendingPathComponent("\(name).jinja"), encoding: .utf8) }
        #expect(ToolCallFormat.detect(template: try template("Qwen-Qwen2.5-7B-Instruct"), family: .llama) == .hermes)
        #expect(ToolCallFormat.detect(template: try template("NousResearch-Hermes-3-Llama-3.1-8B-tool_use"), family: .llama) == .hermes)
        #expect(ToolCallFormat.detect(template: try template("meta-llama-Llama-3.1-8B-Instruct"), family: .llama) == .llama3JSON)
        #expect(ToolCallFormat.detect(template: try template("mistralai-Mistral-Nemo-Instruct-2407"), family: .llama) == .mistral)
        #expect(ToolCallFormat.detect(template: nil, family: .chatglm) == .chatglm3)
        #expect(ToolCallFormat.detect(template: try template("llama2"), family: .llama) == nil)
    }
}
