// The OpenAI-compatible server through its router: every endpoint, streaming order, usage, errors.
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
import TernEngine
import TernFormats
@testable import TernServer

@Suite struct ServerEndpointTests {
    static let chatBody = #"{"model":"tern-test","messages":[{"role":"user","content":"写一首诗"}],"max_tokens":12,"temperature":0,"ignore_eos":true}"#

    @Test func modelsListAndLookup() async throws {
        let (app, _) = try TestServer.make()
        try await app.test(.router) { client in
            let (status, body) = try await TestServer.get(client, "/v1/models")
            #expect(status == .ok)
            let list = try JSONParser.parse(body)
            #expect(list["object"]?.stringValue == "list")
            #expect(list["data"]?.arrayValue?.first?["id"]?.stringValue == "tern-test")
            #expect(list["data"]?.arrayValue?.first?["max_model_len"]?.intValue == 256)
            #expect(try await TestServer.get(client, "/v1/models/tern-test").0 == .ok)
            let (missing, error) = try await TestServer.get(client, "/v1/models/other")
            #expect(missing == .notFound)
            #expect(try JSONParser.parse(error)["error"]?["code"]?.stringValue == "model_not_found")
        }
    }

    @Test func chatCompletionMatchesDirectGeneration() async throws {
        let (app, server) = try TestServer.make()
        let prompt = try server.loaded.chatPrompt()
        let ids = prompt.tokenize(try prompt.render(messages: [["role": "user", "content": "写一首诗"]]))
        var parameters = SamplingParameters()
        parameters.temperature = 0
        parameters.maxTokens = 12
        parameters.ignoreEOS = true
        let direct = try Generator(loaded: server.loaded, maxModelLength: 256).generate(prompt: ids, parameters: parameters)
        try await app.test(.router) { client in
            let (status, body, _) = try await TestServer.post(client, "/v1/chat/completions", Self.chatBody)
            #expect(status == .ok, "\(body)")
            let json = try JSONParser.parse(body)
            #expect(json["object"]?.stringValue == "chat.completion")
            let choice = json["choices"]?.arrayValue?.first
            #expect(choice?["message"]?["content"]?.stringValue == direct.text)
            #expect(choice?["message"]?["role"]?.stringValue == "assistant")
            #expect(choice?["finish_reason"]?.stringValue == "length")
            #expect(json["usage"]?["prompt_tokens"]?.intValue == ids.count)
            #expect(json["usage"]?["completion_tokens"]?.intValue == 12)
            #expect(json["usage"]?["total_tokens"]?.intValue == ids.count + 12)
        }
    }

    @Test func streamingChunksArriveInOpenAIOrder() async throws {
        let (app, _) = try TestServer.make()
        try await app.test(.router) { client in
            let whole = try JSONParser.parse(try await TestServer.post(client, "/v1/chat/completions", Self.chatBody).1)
            let streamBody = Self.chatBody.replacingOccurrences(of: "\"ignore_eos\":true", with: "\"ignore_eos\":true,\"stream\":true,\"stream_options\":{\"include_usage\":true}")
            let (status, body, headers) = try await TestServer.post(client, "/v1/chat/completions", streamBody)
            #expect(status == .ok)
            #expect(headers[.contentType] == "text/event-stream")
            let events = TestServer.events(body)
            #expect(events.last == "[DONE]")
            let chunks = try events.dropLast().map { try JSONParser.parse($0) }
            #expect(chunks.first?["choices"]?.arrayValue?.first?["delta"]?["role"]?.stringValue == "assistant")
            let usageChunk = try #require(chunks.last)
            #expect(usageChunk["choices"]?.arrayValue?.isEmpty == true)
            #expect(usageChunk["usage"]?["completion_tokens"]?.intValue == 12)
            let finishes = chunks.compactMap { $0["choices"]?.arrayValue?.first?["finish_reason"]?.stringValue }
            #expect(finishes == ["length"], "only the last content chunk carries finish_reason")
            let text = chunks.compactMap { $0["choices"]?.arrayValue?.first?["delta"]?["content"]?.stringValue }.joined()
            #expect(text == whole["choices"]?.arrayValue?.first?["message"]?["content"]?.stringValue)
            #expect(chunks.allSatisfy { $0["object"]?.stringValue == "chat.completion.chunk" })
        }
    }

    @Test func completionsWithEchoStopAndChoices() async throws {
        let (app, _) = try TestServer.make()
        try await app.test(.router) { client in
            let base = #"{"model":"tern-test","prompt":"Once upon a time","max_tokens":16,"temperature":0,"ignore_eos":true}"#
            let plain = try JSONParser.parse(try await TestServer.post(client, "/v1/completions", base).1)
            let text = try #require(plain["choices"]?.arrayValue?.first?["text"]?.stringValue)
            #expect(plain["object"]?.stringValue == "text_completion")
            let echoed = try JSONParser.parse(try await TestServer.post(client, "/v1/completions", base.replacingOccurrences(of: "\"temperature\":0", with: "\"temperature\":0,\"echo\":true")).1)
            #expect(echoed["choices"]?.arrayValue?.first?["text"]?.stringValue == "Once upon a time" + text)
            // A stop string taken from the middle of the text cuts the answer just before it.
            let scalars = Array(text.unicodeScalars)
            let stop = String(String.UnicodeScalarView(scalars[4..<6]))
            let stopBody = base.replacingOccurrences(of: "\"temperature\":0", with: "\"temperature\":0,\"stop\":\(JSONValue.string(stop).serialized)")
            let stopped = try JSONParser.parse(try await TestServer.post(client, "/v1/completions", stopBody).1)
            #expect(stopped["choices"]?.arrayValue?.first?["text"]?.stringValue == String(text[..<text.range(of: stop)!.lowerBound]))
            #expect(stopped["choices"]?.arrayValue?.first?["finish_reason"]?.stringValue == "stop")
            // n choices with a seed: reproducible as a set, different from each other.
            let sampled = #"{"model":"tern-test","prompt":[1,2,3],"max_tokens":16,"n":3,"seed":7,"ignore_eos":true}"#
            let first = try JSONParser.parse(try await TestServer.post(client, "/v1/completions", sampled).1)
            let second = try JSONParser.parse(try await TestServer.post(client, "/v1/completions", sampled).1)
            let texts = first["choices"]?.arrayValue?.compactMap { $0["text"]?.stringValue } ?? []
            #expect(texts.count == 3 && Set(texts).count > 1)
            #expect(texts == second["choices"]?.arrayValue?.compactMap { $0["text"]?.stringValue })
            #expect(first["usage"]?["completion_tokens"]?.intValue == 48)
        }
    }

    @Test func logprobsAreReported() async throws {
        let (app, _) = try TestServer.make()
        try await app.test(.router) { client in
            let body = Self.chatBody.replacingOccurrences(of: "\"ignore_eos\":true", with: "\"ignore_eos\":true,\"logprobs\":true,\"top_logprobs\":3")
            let json = try JSONParser.parse(try await TestServer.post(client, "/v1/chat/completions", body).1)
            let content = try #require(json["choices"]?.arrayValue?.first?["logprobs"]?["content"]?.arrayValue)
            #expect(content.count == 12)
            #expect(content.allSatisfy { $0["top_logprobs"]?.arrayValue?.count == 3 && ($0["logprob"]?.doubleValue ?? 1) <= 0 })
            // Greedy picks the most likely token, so it heads its own top list.
            #expect(content.allSatisfy { $0["token"] == $0["top_logprobs"]?.arrayValue?.first?["token"] })
        }
    }

    @Test func tokenizeDetokenizeHealthVersion() async throws {
        let (app, server) = try TestServer.make()
        try await app.test(.router) { client in
            let (status, body, _) = try await TestServer.post(client, "/tokenize", #"{"prompt":"床前明月光"}"#)
            #expect(status == .ok)
            let tokens = try JSONParser.parse(body)["tokens"]!.ints
            #expect(tokens == server.loaded.tokenizer.encode("床前明月光"))
            let back = try JSONParser.parse(try await TestServer.post(client, "/detokenize", #"{"tokens":\#(tokens)}"#).1)
            #expect(back["prompt"]?.stringValue == "床前明月光")
            #expect(try await TestServer.get(client, "/health").0 == .ok)
            #expect(try await TestServer.get(client, "/livez").0 == .ok)
            #expect(try JSONParser.parse(try await TestServer.get(client, "/version").1)["version"]?.stringValue == TernVersion.current)
        }
    }

    @Test func metricsMoveAfterARequest() async throws {
        let (app, _) = try TestServer.make()
        try await app.test(.router) { client in
            _ = try await TestServer.post(client, "/v1/chat/completions", Self.chatBody)
            let (status, text) = try await TestServer.get(client, "/metrics")
            #expect(status == .ok)
            for name in ["vllm:num_requests_running", "vllm:num_requests_waiting", "vllm:kv_cache_usage_perc", "vllm:gpu_cache_usage_perc",
                         "vllm:time_to_first_token_seconds_bucket", "vllm:time_per_output_token_seconds_bucket",
                         "vllm:inter_token_latency_seconds_bucket", "vllm:e2e_request_latency_seconds_count",
                         "vllm:request_prompt_tokens_sum", "vllm:request_generation_tokens_sum"] {
                #expect(text.contains(name), "\(name) missing")
            }
            #expect(text.contains(#"vllm:generation_tokens_total{model_name="tern-test"} 12"#))
            #expect(text.contains(#"vllm:request_success_total{model_name="tern-test",finished_reason="length"} 1"#))
            #expect(text.contains(#"vllm:num_requests_running{model_name="tern-test"} 0"#))
        }
    }
}
