// Operational routes: /health, /livez, /version, and vLLM's /tokenize and /detokenize.
import Foundation
import Hummingbird
import TernEngine
import TernFormats

public enum TernVersion {
    public static let current = "0.1.0"
}

struct UtilityController {
    let slot: ModelSlot
    let options: ServerOptions

    func register(on routes: RouteTable) {
        routes.get("/health") { _, _ in health() }
        routes.get("/livez") { _, _ in OpenAIController.json(["status": "ok"]) }
        routes.get("/version") { _, _ in OpenAIController.json(["version": .string(TernVersion.current)]) }
        routes.post("/tokenize") { request, _ in try await tokenize(request) }
        routes.post("/detokenize") { request, _ in try await detokenize(request) }
    }

    /// 200 when the model is loaded and the engine loop runs; 503 otherwise (Kubernetes readiness).
    private func health() -> Response {
        if slot.isDraining { return OpenAIController.json(["status": "draining"], status: .serviceUnavailable) }
        switch slot.state {
        case .ready(let server) where server.engine.isAlive:
            return OpenAIController.json(["status": "ok"])
        case .ready:
            return OpenAIController.json(["status": "engine stopped"], status: .serviceUnavailable)
        case .loading:
            return OpenAIController.json(["status": "loading"], status: .serviceUnavailable)
        case .failed(let message):
            return OpenAIController.json(["status": "failed", "message": .string(message)], status: .serviceUnavailable)
        }
    }

    /// The model field is optional here, as in vLLM, but must name this model when given.
    private func fields(_ incoming: Request, server: ModelServer) async throws -> RequestFields {
        var request = incoming
        let buffer = try await request.collectBody(upTo: options.maxBodyBytes)
        let fields = try RequestFields(body: Array(buffer.readableBytesView))
        if let model = try fields.string("model"), model != server.name {
            throw APIError(.notFound, "The model `\(model)` does not exist.", param: "model", code: "model_not_found")
        }
        return fields
    }

    private func tokenize(_ request: Request) async throws -> Response {
        let server = try slot.server()
        let fields = try await fields(request, server: server)
        let tokens: [Int]
        if fields.value("messages") != nil {
            tokens = try ChatRequest.promptTokens(fields, server: server, trustRequestTemplate: options.trustRequestChatTemplate)
        } else {
            let prompt = try fields.requiredString("prompt")
            tokens = server.loaded.tokenizer.encode(prompt, addSpecialTokens: try fields.bool("add_special_tokens") ?? true)
        }
        return OpenAIController.json(["count": .int(tokens.count), "max_model_len": .int(server.maxModelLength),
                                      "tokens": .array(tokens.map { .int($0) })])
    }

    private func detokenize(_ request: Request) async throws -> Response {
        let server = try slot.server()
        let fields = try await fields(request, server: server)
        let tokens = try fields.ints("tokens")
        let vocabulary = server.loaded.model.config.vocabSize
        if let bad = tokens.first(where: { !(0..<vocabulary).contains($0) }) {
            throw APIError.badRequest("token id \(bad) is outside the vocabulary (0..<\(vocabulary))", param: "tokens")
        }
        return OpenAIController.json(["prompt": .string(server.loaded.tokenizer.decode(tokens))])
    }
}
