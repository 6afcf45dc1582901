// The OpenAI routes: /v1/models, /v1/chat/completions and /v1/completions.
import Foundation
import Hummingbird
import TernEngine
import TernFormats
import TernTemplates

struct OpenAIController {
    let slot: ModelSlot
    let options: ServerOptions
    let connections: ConnectionWatcher

    func register(on routes: RouteTable) {
        routes.get("/v1/models") { _, _ in try listModels() }
        // Ids may hold '/' (org/name), as the path or percent-encoded.
        routes.get("/v1/models/**") { _, context in
            let server = try slot.server()
            let id = context.parameters.getCatchAll().joined(separator: "/")
            let decoded = id.removingPercentEncoding ?? id
            guard decoded == server.name else {
                throw APIError(.notFound, "The model `\(decoded)` does not exist.", param: "model", code: "model_not_found")
            }
            return Self.json(Self.model(server))
        }
        routes.post("/v1/chat/completions") { request, context in try await complete(.chat, request, context) }
        routes.post("/v1/completions") { request, context in try await complete(.text, request, context) }
    }

    static func model(_ server: ModelServer) -> JSONValue {
        ["id": .string(server.name), "object": "model", "created": .int(server.created), "owned_by": "tern",
         "root": .string(server.loaded.path.path), "parent": .null, "max_model_len": .int(server.maxModelLength)]
    }

    static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: value.serialized)))
    }

    private func listModels() throws -> Response {
        Self.json(["object": "list", "data": [Self.model(try slot.server())]])
    }

    /// Reads the JSON body, checks the model name, and returns the fields.
    static func readBody(_ request: inout Request, server: ModelServer, limit: Int) async throws -> RequestFields {
        let buffer = try await request.collectBody(upTo: limit)
        let fields = try RequestFields(body: Array(buffer.readableBytesView))
        let model = try fields.requiredString("model")
        guard model == server.name else {
            throw APIError(.notFound, "The model `\(model)` does not exist.", param: "model", code: "model_not_found")
        }
        return fields
    }

    /// A chat or text completion: the kind decides how the prompts are read; the rest is shared.
    private func complete(_ kind: CompletionKind, _ incoming: Request, _ context: TernRequestContext) async throws -> Response {
        var request = incoming
        let server = try slot.serverTakingWork()
        let fields = try await Self.readBody(&request, server: server, limit: options.maxBodyBytes)
        if options.logRequests, let prompt = fields.value(kind == .chat ? "messages" : "prompt") {
            context.usage.recordPrompt(prompt.serialized)
        }
        var generation = try GenerationOptions(fields, vocabularySize: server.loaded.model.config.vocabSize, chat: kind == .chat)
        context.usage.recordEndUser(try fields.string("user"), safetyIdentifier: try fields.string("safety_identifier"))
        let toolCalling = kind == .chat ? try ToolCalling.plan(fields, server: server) : nil
        if let toolCalling, toolCalling.format.needsSpecialTokens { generation.parameters.keepSpecialTokens = true }
        let requested = try OutputConstraintRequest.spec(fields)
        if let forced = toolCalling?.forced {
            if let requested {
                throw APIError.badRequest("'\(requested.field)' cannot be combined with a forced tool_choice", param: requested.field)
            }
            generation.parameters.constraint = try OutputConstraintRequest.compile(forced, field: "tools", server: server)
        } else if let requested {
            generation.parameters.constraint = try OutputConstraintRequest.compile(requested.spec, field: requested.field, server: server)
        }
        let prompts = kind == .chat
            ? [try ChatRequest.promptTokens(fields, server: server, trustRequestTemplate: options.trustRequestChatTemplate)]
            : try CompletionRequest.prompts(fields, server: server)
        // Completions with echo start each choice with its prompt's text.
        let echo = kind == .text ? try fields.bool("echo") ?? false : false
        let prefixes = prompts.flatMap { prompt in
            Array(repeating: echo ? server.loaded.tokenizer.decode(prompt, skipSpecialTokens: true) : "", count: generation.n)
        }
        let responder = CompletionResponder(kind: kind, model: server.name, tokenizer: server.loaded.tokenizer,
                                            wantsLogprobs: generation.parameters.logprobs != nil)
        let handler = CompletionHandler(service: server.service, responder: responder, options: generation,
                                        promptTokenCount: prompts.reduce(0) { $0 + $1.count }, prefixes: prefixes, toolCalling: toolCalling)
        return try await handler.respond(prompts: prompts, connection: ClientConnection(watcher: connections, channel: context.channel),
                                         usage: context.usage)
    }
}

/// The prompts of a text completion: a string, strings, token ids, or lists of token ids.
enum CompletionRequest {
    static func prompts(_ fields: RequestFields, server: ModelServer) throws -> [[Int]] {
        let tokenizer = server.loaded.tokenizer
        let bad = APIError.badRequest("'prompt' must be a string, a list of strings, a list of token ids or a list of such lists", param: "prompt")
        guard let value = fields.value("prompt") else { throw APIError.badRequest("'prompt' is required", param: "prompt") }
        let prompts: [[Int]]
        switch value {
        case .string(let text):
            prompts = [tokenizer.encode(text)]
        case .array(let items) where !items.isEmpty:
            if items.allSatisfy({ $0.stringValue != nil }) {
                prompts = items.map { tokenizer.encode($0.stringValue!) }
            } else if items.allSatisfy({ if case .int = $0 { return true } else { return false } }) {
                prompts = [items.compactMap(\.intValue)]
            } else {
                prompts = try items.map { item in
                    guard let ids = item.arrayValue, ids.allSatisfy({ if case .int = $0 { return true } else { return false } }) else { throw bad }
                    return ids.compactMap(\.intValue)
                }
            }
        default:
            throw bad
        }
        if prompts.contains(where: \.isEmpty) { throw APIError.badRequest("'prompt' must not be empty", param: "prompt") }
        return prompts
    }
}
