// A router-level test server around a fixture model, and helpers to call it.
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import TernEngine
import TernFormats
@testable import TernServer

enum TestServer {
    static let loaded = Result { try LoadedModel(path: Fixtures.model("qwen2-bpe")) }

    static func make(apiKeys: [String] = [], maxSeqs: Int = 16, maxQueued: Int = 64, maxBodyBytes: Int = 1 << 20, maxModelLength: Int = 256)
        throws -> (Application<RouterResponder<TernRequestContext>>, ModelServer) {
        let loaded = try loaded.get()
        var configuration = EngineConfiguration(maxModelLength: maxModelLength)
        configuration.maxNumQueuedRequests = maxQueued
        configuration.maxNumSeqs = maxSeqs
        let server = ModelServer(name: "tern-test", loaded: loaded, engine: Engine(loaded: loaded, configuration: configuration), chatTemplateFile: nil)
        var options = ServerOptions()
        options.apiKeys = apiKeys
        options.maxBodyBytes = maxBodyBytes
        var logger = Logger(label: "test")
        logger.logLevel = .error
        let app = Application(router: buildRouter(slot: ModelSlot(server), options: options, logger: logger))
        return (app, server)
    }

    static func post(_ client: any TestClientProtocol, _ path: String, _ body: String, headers: HTTPFields = [:]) async throws -> (HTTPResponse.Status, String, HTTPFields) {
        try await client.execute(uri: path, method: .post, headers: headers, body: ByteBuffer(string: body)) { response in
            (response.status, String(buffer: response.body), response.headers)
        }
    }

    static func get(_ client: any TestClientProtocol, _ path: String, headers: HTTPFields = [:]) async throws -> (HTTPResponse.Status, String) {
        try await client.execute(uri: path, method: .get, headers: headers) { response in (response.status, String(buffer: response.body)) }
    }

    /// The `data:` payloads of a Server-Sent Events body.
    static func events(_ body: String) -> [String] {
        body.components(separatedBy: "\n\n").filter { !$0.isEmpty }.map { String($0.dropFirst("data: ".count)) }
    }
}
