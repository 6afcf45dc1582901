// Response bodies and stream chunks of /v1/chat/completions and /v1/completions, in OpenAI's shapes.
import Foundation
import TernEngine
import TernFormats
import TernTokenizer

enum CompletionKind {
    case chat, text

    var idPrefix: String { self == .chat ? "chatcmpl-" : "cmpl-" }
    var object: String { self == .chat ? "chat.completion" : "text_completion" }
    var chunkObject: String { self == .chat ? "chat.completion.chunk" : "text_completion" }
}

/// What one choice has produced so far.
struct ChoiceResult {
    var text = ""
    var tokens: [TokenStep] = []
    var finishReason: FinishReason?
    var usage: TokenUsage?
    /// Tool calls read from the reply (then `text` is what came before them), with their ids.
    var calls: [(id: String, call: ToolCall)] = []
}

struct CompletionResponder {
    let kind: CompletionKind
    let id: String
    let created: Int
    let model: String
    let tokenizer: Tokenizer
    let wantsLogprobs: Bool

    init(kind: CompletionKind, model: String, tokenizer: Tokenizer, wantsLogprobs: Bool) {
        self.kind = kind
        id = kind.idPrefix + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        created = Int(Date().timeIntervalSince1970)
        self.model = model
        self.tokenizer = tokenizer
        self.wantsLogprobs = wantsLogprobs
    }

    static func usage(_ results: [ChoiceResult], promptTokens: Int) -> JSONValue {
        let completion = results.reduce(0) { $0 + ($1.usage?.completionTokens ?? $1.tokens.count) }
        return ["prompt_tokens": .int(promptTokens), "completion_tokens": .int(completion), "total_tokens": .int(promptTokens + completion)]
    }

    /// A finish reason as the API names it: a reply that ended by itself after tool calls finished with "tool_calls".
    static func finishReason(_ reason: FinishReason?, madeToolCalls: Bool) -> JSONValue {
        guard let reason else { return .null }
        return .string(reason == .stop && madeToolCalls ? "tool_calls" : reason.rawValue)
    }

    func body(_ results: [ChoiceResult], promptTokens: Int, prefixes: [String]) -> JSONValue {
        let choices: [JSONValue] = results.enumerated().map { index, result in
            let reason = Self.finishReason(result.finishReason, madeToolCalls: !result.calls.isEmpty)
            switch kind {
            case .chat:
                let content: JSONValue = result.calls.isEmpty || !result.text.isEmpty ? .string(result.text) : .null
                var message = JSONObject([("role", "assistant"), ("content", content), ("refusal", .null)])
                if !result.calls.isEmpty { message["tool_calls"] = .array(result.calls.map { ToolCalling.entry($0.call, id: $0.id) }) }
                return ["index": .int(index), "message": .object(message), "logprobs": logprobs(result.tokens), "finish_reason": reason]
            case .text:
                return ["index": .int(index), "text": .string(prefixes[index] + result.text), "logprobs": logprobs(result.tokens),
                        "finish_reason": reason]
            }
        }
        return ["id": .string(id), "object": .string(kind.object), "created": .int(created), "model": .string(model),
                "choices": .array(choices), "usage": Self.usage(results, promptTokens: promptTokens)]
    }

    /// One streamed chunk for a choice: its new text (or tool-call deltas), and the finish reason on the last one.
    func chunk(index: Int, text: String, tokens: [TokenStep], finishReason: FinishReason?, isFirst: Bool,
               toolCallDeltas: [JSONValue] = [], madeToolCalls: Bool = false) -> JSONValue {
        let reason = Self.finishReason(finishReason, madeToolCalls: madeToolCalls)
        let choice: JSONValue
        switch kind {
        case .chat:
            var delta = JSONObject()
            if isFirst { delta["role"] = "assistant" }
            if !text.isEmpty || isFirst { delta["content"] = .string(text) }
            if !toolCallDeltas.isEmpty { delta["tool_calls"] = .array(toolCallDeltas) }
            choice = ["index": .int(index), "delta": .object(delta), "logprobs": logprobs(tokens), "finish_reason": reason]
        case .text:
            choice = ["index": .int(index), "text": .string(text), "logprobs": logprobs(tokens), "finish_reason": reason]
        }
        return ["id": .string(id), "object": .string(kind.chunkObject), "created": .int(created), "model": .string(model),
                "choices": [choice]]
    }

    func usageChunk(_ usage: JSONValue) -> JSONValue {
        ["id": .string(id), "object": .string(kind.chunkObject), "created": .int(created), "model": .string(model),
         "choices": [], "usage": usage]
    }

    private func tokenText(_ id: Int) -> String {
        String(decoding: tokenizer.bytes(ofToken: id), as: UTF8.self)
    }

    private func logprobs(_ steps: [TokenStep]) -> JSONValue {
        guard wantsLogprobs else { return .null }
        switch kind {
        case .chat:
            let content: [JSONValue] = steps.map { step in
                let top: [JSONValue] = step.token.topLogprobs.map { alternative in
                    ["token": .string(tokenText(alternative.id)), "logprob": .double(Double(alternative.logprob)),
                     "bytes": .array(tokenizer.bytes(ofToken: alternative.id).map { .int(Int($0)) })]
                }
                return ["token": .string(tokenText(step.token.id)), "logprob": .double(Double(step.token.logprob ?? .nan)),
                        "bytes": .array(tokenizer.bytes(ofToken: step.token.id).map { .int(Int($0)) }), "top_logprobs": .array(top)]
            }
            return ["content": .array(content), "refusal": .null]
        case .text:
            var offset = 0
            var offsets: [JSONValue] = []
            for step in steps {
                offsets.append(.int(offset))
                offset += tokenText(step.token.id).count
            }
            let top: [JSONValue] = steps.map { step in
                .object(JSONObject(step.token.topLogprobs.map { (tokenText($0.id), .double(Double($0.logprob))) }))
            }
            return ["tokens": .array(steps.map { .string(tokenText($0.token.id)) }),
                    "token_logprobs": .array(steps.map { .double(Double($0.token.logprob ?? .nan)) }),
                    "top_logprobs": .array(top), "text_offset": .array(offsets)]
        }
    }
}
