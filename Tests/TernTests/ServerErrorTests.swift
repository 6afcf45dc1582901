// Bad requests of every kind get OpenAI's error object with the right status, and the server keeps serving.
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
@testable import TernEngine
import TernFormats
@testable import TernServer

@Suite struct ServerErrorTests {
    static func expectError(_ result: (HTTPResponse.Status, String, HTTPFields), _ status: HTTPResponse.Status, param: String? = nil,
                            containing text: String? = nil, sourceLocation: SourceLocation = #_sourceLocation) throws {
        #expect(result.0 == status, "\(result.1)", sourceLocation: sourceLocation)
        let error = try JSONParser.parse(result.1)["error"]
        #expect(error?["message"]?.stringValue?.isEmpty == false, sourceLocation: sourceLocation)
        #expect(error?["type"]?.stringValue != nil, sourceLocation: sourceLocation)
        if let param { #expect(error?["param"]?.stringValue == param, "\(result.1)", sourceLocation: sourceLocation) }
        if let text { #expect(error?["message"]?.stringValue?.contains(text) == true, "\(result.1)", sourceLocation: sourceLocation) }
    }

    @Test func badBodiesAre400NamingTheField() async throws {
        let (app, _) = try TestServer.make()
        try await app.test(.router) { client in
            let chat = "/v1/chat/completions"
            try Self.expectError(try await TestServer.post(client, chat, "{not json"), .badRequest, containing: "malformed JSON")
            try Self.expectError(try await TestServer.post(client, chat, "[1,2]"), .badRequest)
            try Self.expectError(try await TestServer.post(client, chat, #"{"messages":[{"role":"user","content":"hi"}]}"#), .badRequest, param: "model")
            try Self.expectError(try await TestServer.post(client, chat, #"{"model":"tern-test","messages":[]}"#), .badRequest, param: "messages")
            try Self.expectError(try await TestServer.post(client, chat, #"{"model":"tern-test","messages":[{"role":"wizard","content":"hi"}]}"#),
                                 .badRequest, param: "messages[0].role")
            try Self.expectError(try await TestServer.post(client, chat, #"{"model":"tern-test","messages":[{"role":"user","content":5}]}"#),
                                 .badRequest, param: "messages[0].content")
            let ok = #"{"model":"tern-test","messages":[{"role":"user","content":"hi"}]"#
            try Self.expectError(try await TestServer.post(client, chat, ok + #","temperature":"hot"}"#), .badRequest, param: "temperature")
            try Self.expectError(try await TestServer.post(client, chat, ok + #","temperature":3}"#), .badRequest, param: "temperature")
            try Self.expectError(try await TestServer.post(client, chat, ok + #","max_tokens":-1}"#), .badRequest, param: "max_tokens")
            try Self.expectError(try await TestServer.post(client, chat, ok + #","n":0}"#), .badRequest, param: "n")
            try Self.expectError(try await TestServer.post(client, chat, ok + #","top_p":0}"#), .badRequest, param: "top_p")
            try Self.expectError(try await TestServer.post(client, chat, ok + #","logit_bias":{"99999":1}}"#), .badRequest, param: "logit_bias")
            try Self.expectError(try await TestServer.post(client, chat, ok + #","stream_options":{"include_usage":true}}"#), .badRequest, param: "stream_options")
            try Self.expectError(try await TestServer.post(client, chat, ok + #","chat_template":"{% if %}"}"#), .badRequest, param: "chat_template")
            try Self.expectError(try await TestServer.post(client, "/v1/completions", #"{"model":"tern-test","prompt":[1,"a"]}"#), .badRequest, param: "prompt")
            try Self.expectError(try await TestServer.post(client, "/v1/completions", #"{"model":"tern-test","prompt":[99999]}"#), .badRequest, containing: "outside the vocabulary")
            // The server still answers after all of that.
            #expect(try await TestServer.post(client, chat, ok + #","max_tokens":2}"#).0 == .ok)
        }
    }

    @Test func promptLongerThanTheContextIs400() async throws {
        let (app, _) = try TestServer.make(maxModelLength: 32)
        try await app.test(.router) { client in
            let long = String(repeating: "床前明月光 ", count: 40)
            try Self.expectError(try await TestServer.post(client, "/v1/completions", #"{"model":"tern-test","prompt":"\#(long)"}"#),
                                 .badRequest, containing: "maximum context length is 32")
            try Self.expectError(try await TestServer.post(client, "/v1/completions", #"{"model":"tern-test","prompt":"hi","max_tokens":40}"#),
                                 .badRequest, param: "max_tokens", containing: "maximum context length is 32")
        }
    }

    @Test func unknownModelIs404() async throws {
        let (app, _) = try TestServer.make()
        try await app.test(.router) { client in
            try Self.expectError(try await TestServer.post(client, "/v1/completions", #"{"model":"gpt-4","prompt":"hi"}"#), .notFound, param: "model")
            try Self.expectError(try await TestServer.post(client, "/v1/nothing", "{}"), .notFound)
        }
    }

    @Test func apiKeysProtectEveryRouteButHealth() async throws {
        let (app, _) = try TestServer.make(apiKeys: ["k1", "k2"])
        try await app.test(.router) { client in
            let body = #"{"model":"tern-test","prompt":"hi","max_tokens":2}"#
            try Self.expectError(try await TestServer.post(client, "/v1/completions", body), .unauthorized)
            try Self.expectError(try await TestServer.post(client, "/v1/completions", body, headers: [.authorization: "Bearer nope"]), .unauthorized)
            try Self.expectError(try await TestServer.post(client, "/tokenize", #"{"prompt":"x"}"#), .unauthorized)
            #expect(try await TestServer.get(client, "/v1/models").0 == .unauthorized)
            #expect(try await TestServer.post(client, "/v1/completions", body, headers: [.authorization: "Bearer k2"]).0 == .ok)
            #expect(try await TestServer.get(client, "/health").0 == .ok)
            #expect(try await TestServer.get(client, "/metrics").0 == .ok)
        }
        #expect(APIKeyMiddleware.constantTimeEqual("abc", "abc"))
        #expect(!APIKeyMiddleware.constantTimeEqual("abc", "abd") && !APIKeyMiddleware.constantTimeEqual("abc", "abcd"))
    }

    @Test func oversizedBodyIs413() async throws {
        let (app, _) = try TestServer.make(maxBodyBytes: 1000)
        try await app.test(.router) { client in
            let big = #"{"model":"tern-test","prompt":""# + String(repeating: "x", count: 5000) + #""}"#
            try Self.expectError(try await TestServer.post(client, "/v1/completions", big), .contentTooLarge)
        }
    }

    @Test func fullServerIs429WithRetryAfterAndTooLargeIs400() async throws {
        let (app, server) = try TestServer.make(maxSeqs: 1, maxQueued: 0, maxModelLength: 16384)
        var parameters = SamplingParameters()
        parameters.maxTokens = 16000
        parameters.ignoreEOS = true
        // The only place is taken by a request long enough to outlast the test on a loaded machine
        // (4000 tokens of this tiny model once finished before the next request arrived).
        let held = try server.engine.submit(EngineRequest(id: "held", promptTokens: [1, 2, 3], parameters: parameters))
        try await app.test(.router) { client in
            let result = try await TestServer.post(client, "/v1/completions", #"{"model":"tern-test","prompt":"hi","max_tokens":2}"#)
            try Self.expectError(result, .tooManyRequests)
            #expect(result.2[.retryAfter] == "1")
            let never = try await TestServer.post(client, "/v1/completions", #"{"model":"tern-test","prompt":"hi","max_tokens":2,"n":2}"#)
            try Self.expectError(never, .badRequest)
            #expect(never.2[.retryAfter] == nil)
        }
        server.engine.abort("held")
        for await _ in held {}
    }

    @Test func retryAfterFollowsTheRateRequestsFinishAt() {
        var admission = Admission(capacity: 4)
        #expect(admission.take(4) && !admission.take(1))
        #expect(admission.secondsUntilRoom(for: 1) == 1, "nothing finished yet: the shortest wait")
        let second: UInt64 = 1_000_000_000
        admission.release(1, at: 10 * second)
        admission.release(1, at: 14 * second)
        #expect(admission.take(2) && !admission.take(1))
        // Two finished over 4 s: one every 2 s; three more places need about 6 s.
        #expect(admission.secondsUntilRoom(for: 3, now: 14 * second) == 6)
        #expect(admission.secondsUntilRoom(for: 1000, now: 14 * second) == 60)
    }
}

@Suite struct SettingSourcesTests {
    @Test func flagBeatsEnvironmentBeatsFileBeatsDefault() throws {
        let file = try Fixtures.temporaryDirectory().appendingPathComponent("tern.yaml")
        try "port: 9000\nhost: 10.0.0.1\nmax_num_seqs: 4\napi-key: [a, b]\nprotect-metrics: true\n".write(to: file, atomically: true, encoding: .utf8)
        let sources = try SettingSources(configFile: file.path, environment: ["PORT": "8100"])
        #expect(try sources.resolve(7000, env: "PORT", key: "port", default: 8000) == 7000)
        #expect(try sources.resolve(nil, env: "PORT", key: "port", default: 8000) == 8100)
        #expect(sources.resolve(nil, env: "HOST", key: "host") == "10.0.0.1")
        #expect(try sources.resolve(nil, env: nil, key: "max-num-seqs", default: 16) == 4)
        #expect(try sources.resolve(nil, env: nil, key: "max-model-len", default: 4096) == 4096)
        #expect(sources.text(env: "API_KEY", key: "api-key") == "a,b")
        #expect(sources.resolve(false, env: nil, key: "protect-metrics"))
    }

    @Test func badConfigFilesAreClearErrors() throws {
        let file = try Fixtures.temporaryDirectory().appendingPathComponent("bad.yaml")
        try "port: [unclosed\n".write(to: file, atomically: true, encoding: .utf8)
        #expect(throws: SettingsError.self) { try SettingSources(configFile: file.path, environment: [:]) }
        try "port: eighty\n".write(to: file, atomically: true, encoding: .utf8)
        let sources = try SettingSources(configFile: file.path, environment: [:])
        #expect(throws: SettingsError.self) { try sources.resolve(nil, env: nil, key: "port", default: 1) }
        #expect(throws: SettingsError.self) { try SettingSources(configFile: "/nonexistent.yaml", environment: [:]) }
    }
}
