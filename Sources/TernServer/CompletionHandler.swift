// Runs a completion for the routes: JSON for a whole answer, Server-Sent Events for a stream.
// The client hanging up at any point cancels the work, which aborts its sequences in the engine.
import Foundation
import HTTPTypes
import Hummingbird
import TernEngine
import TernFormats

struct CompletionHandler {
    let service: GenerationService
    let responder: CompletionResponder
    let options: GenerationOptions
    let promptTokenCount: Int
    /// Text put before each choice's output (the prompt, for completions with echo).
    let prefixes: [String]
    /// Set when the replies are read for tool calls.
    var toolCalling: ToolCalling?

    static let noProxyBuffering = HTTPField.Name("X-Accel-Buffering")!

    func respond(prompts: [[Int]], connection: ClientConnection, usage: UsageBox) async throws -> Response {
        let run = try service.start(prompts: prompts, options: options)
        let choices = prompts.count * options.n
        if options.stream {
            // X-Accel-Buffering: nginx passes the events on as they come even where buffering is on.
            return Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache", Self.noProxyBuffering: "no"],
                            body: .init { writer in
                                let registration = connection.onClose(run.cancel)
                                defer { registration.cancel() }
                                try await stream(run, choices: choices, usage: usage, writer: &writer)
                                try await writer.finish(nil)
                            })
        }
        let registration = connection.onClose(run.cancel)
        defer { registration.cancel() }
        let results = try await collect(run, choices: choices)
        usage.record(results, promptTokens: promptTokenCount)
        let json = responder.body(results, promptTokens: promptTokenCount, prefixes: prefixes)
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: json.serialized)))
    }

    private func collect(_ run: GenerationRun, choices: Int) async throws -> [ChoiceResult] {
        var results = [ChoiceResult](repeating: ChoiceResult(), count: choices)
        for await choice in run.events {
            switch choice.event {
            case .token(let step):
                results[choice.index].text += step.text
                results[choice.index].tokens.append(step)
            case .finished(let reason, let tokenUsage):
                results[choice.index].finishReason = reason
                results[choice.index].usage = tokenUsage
            case .failed(let message):
                throw APIError(.internalServerError, message)
            }
        }
        try checkFinished(run)
        if let toolCalling {
            for i in results.indices {
                let reply = toolCalling.reply(results[i].text)
                results[i].text = reply.content
                results[i].calls = reply.calls.map { (ToolCalling.newCallID(), $0) }
            }
        }
        return results
    }

    private func stream(_ run: GenerationRun, choices: Int, usage: UsageBox, writer: inout any ResponseBodyWriter) async throws {
        var results = [ChoiceResult](repeating: ChoiceResult(), count: choices)
        var started = [Bool](repeating: false, count: choices)
        var pending = [[TokenStep]](repeating: [], count: choices)
        var splitters = toolCalling.map { [ToolCallStream](repeating: $0.makeStream(), count: choices) }
        for index in 0..<choices where !prefixes[index].isEmpty || responder.kind == .chat {
            // The first chunk opens each choice: the assistant role (chat) or the echoed prompt.
            try await send(responder.chunk(index: index, text: prefixes[index], tokens: [], finishReason: nil, isFirst: true), &writer)
            started[index] = true
        }
        for await choice in run.events {
            let i = choice.index
            switch choice.event {
            case .token(let step):
                results[i].tokens.append(step)
                results[i].text += step.text
                pending[i].append(step)
                // Tokens whose text is held back (a possible stop string) ride along with the next chunk.
                guard !step.text.isEmpty || step.finishReason != nil else { continue }
                if splitters != nil {
                    var events = splitters![i].feed(step.text)
                    if step.finishReason != nil { events += splitters![i].finish() }
                    try await sendSplit(events, index: i, tokens: &pending[i], started: &started[i], writer: &writer)
                    if let reason = step.finishReason {
                        try await send(responder.chunk(index: i, text: "", tokens: pending[i], finishReason: reason, isFirst: !started[i],
                                                       madeToolCalls: splitters![i].hasCalls), &writer)
                        pending[i] = []
                    }
                    continue
                }
                try await send(responder.chunk(index: i, text: step.text, tokens: pending[i], finishReason: step.finishReason, isFirst: !started[i]), &writer)
                started[i] = true
                pending[i] = []
            case .finished(let reason, let tokenUsage):
                results[i].usage = tokenUsage
                if results[i].tokens.last?.finishReason == nil {
                    if splitters != nil { try await sendSplit(splitters![i].finish(), index: i, tokens: &pending[i], started: &started[i], writer: &writer) }
                    try await send(responder.chunk(index: i, text: "", tokens: pending[i], finishReason: reason, isFirst: !started[i],
                                                   madeToolCalls: splitters?[i].hasCalls ?? false), &writer)
                }
                results[i].finishReason = reason
            case .failed(let message):
                try await writer.write(ByteBuffer(string: "data: \(APIError(.internalServerError, message).bodyText)\n\n"))
            }
        }
        try checkFinished(run)
        usage.record(results, promptTokens: promptTokenCount)
        if options.includeUsage {
            try await send(responder.usageChunk(CompletionResponder.usage(results, promptTokens: promptTokenCount)), &writer)
        }
        try await writer.write(ByteBuffer(string: "data: [DONE]\n\n"))
    }

    /// A reply's text and tool calls as stream chunks: a call's id, type and name first, its
    /// arguments in the next chunk (OpenAI's delta shapes); with parallel_tool_calls false, only the first call.
    private func sendSplit(_ events: [ToolCallStream.Event], index: Int, tokens: inout [TokenStep], started: inout Bool,
                           writer: inout any ResponseBodyWriter) async throws {
        for event in events {
            var text = "", deltas: [JSONValue] = []
            switch event {
            case .content(let piece): text = piece
            case .call(let call, let name):
                guard toolCalling?.parallel != false || call == 0 else { continue }
                deltas = [["index": .int(call), "id": .string(ToolCalling.newCallID()), "type": "function",
                           "function": ["name": .string(name), "arguments": ""]]]
            case .arguments(let call, let arguments):
                guard toolCalling?.parallel != false || call == 0 else { continue }
                deltas = [["index": .int(call), "function": ["arguments": .string(arguments)]]]
            }
            try await send(responder.chunk(index: index, text: text, tokens: tokens, finishReason: nil, isFirst: !started, toolCallDeltas: deltas), &writer)
            started = true
            tokens = []
        }
    }

    /// The events end early only when the client left or the handler's task was cancelled.
    private func checkFinished(_ run: GenerationRun) throws {
        if run.isCancelled { throw ClientGone() }
        try Task.checkCancellation()
    }

    private func send(_ chunk: JSONValue, _ writer: inout any ResponseBodyWriter) async throws {
        try await writer.write(ByteBuffer(string: "data: \(chunk.serialized)\n\n"))
    }
}

/// What a request's log line reports of its work: token counts, and the prompt and completion
/// texts (logged only with --log-requests).
final class UsageBox: @unchecked Sendable {
    struct Snapshot {
        var counts: (prompt: Int, completion: Int)?
        var prompt: String?
        var completions: [String] = []
        var user: String?
        var safetyIdentifier: String?
    }

    private let lock = NSLock()
    private var current = Snapshot()

    func record(_ results: [ChoiceResult], promptTokens: Int) {
        lock.lock()
        current.counts = (promptTokens, results.reduce(0) { $0 + ($1.usage?.completionTokens ?? $1.tokens.count) })
        current.completions = results.map(\.text)
        lock.unlock()
    }

    /// The request's prompt or messages as JSON.
    func recordPrompt(_ prompt: String) {
        lock.lock()
        current.prompt = prompt
        lock.unlock()
    }

    /// The request's end-user identifiers (`user`, `safety_identifier`).
    func recordEndUser(_ user: String?, safetyIdentifier: String?) {
        lock.lock()
        current.user = user
        current.safetyIdentifier = safetyIdentifier
        lock.unlock()
    }

    var snapshot: Snapshot {
        lock.lock()
        defer { lock.unlock() }
        return current
    }
}
