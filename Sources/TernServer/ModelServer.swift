// Everything the routes need about the served model, and the slot that holds it while loading.
import Foundation
import TernEngine
import TernTemplates

public final class ModelServer: Sendable {
    public let name: String
    public let loaded: LoadedModel
    public let engine: Engine
    let service: GenerationService
    let metrics: ServerMetrics
    /// The chat prompt builder, or why chat requests cannot be served.
    public let chatPrompt: Result<ChatPrompt, EngineError>
    /// How the model writes tool calls: as --tool-call-parser says, else as its chat template asks.
    public let toolCallFormat: ToolCallFormat?
    let created = Int(Date().timeIntervalSince1970)

    public init(name: String, loaded: LoadedModel, engine: Engine, chatTemplateFile: String?, toolCallParser: ToolCallFormat? = nil) {
        self.name = name
        self.loaded = loaded
        self.engine = engine
        metrics = ServerMetrics(modelName: name)
        service = GenerationService(engine: engine, metrics: metrics)
        chatPrompt = Result { try loaded.chatPrompt(overrideFile: chatTemplateFile) }.mapError { error in
            error as? EngineError ?? EngineError("\(error)")
        }
        let templateSource = (try? chatPrompt.get())?.template.source
        toolCallFormat = toolCallParser ?? ToolCallFormat.detect(template: templateSource, family: loaded.model.config.family)
    }

    var maxModelLength: Int { engine.configuration.maxModelLength }
}

/// The served model once loaded; requests before that get 503.
public final class ModelSlot: @unchecked Sendable {
    public enum State {
        case loading
        case ready(ModelServer)
        case failed(String)
    }

    private let lock = NSLock()
    private var current: State = .loading
    private var draining = false
    /// Responses the API port sent, by status (kept across the model's loading).
    public let responses = HTTPResponseCounter()

    public init() {}

    public init(_ server: ModelServer) {
        current = .ready(server)
    }

    public var state: State {
        lock.lock()
        defer { lock.unlock() }
        return current
    }

    public func set(_ state: State) {
        lock.lock()
        current = state
        lock.unlock()
    }

    /// From the first shutdown signal on: health fails and no new generation starts.
    public func beginDraining() {
        lock.lock()
        draining = true
        lock.unlock()
    }

    public var isDraining: Bool {
        lock.lock()
        defer { lock.unlock() }
        return draining
    }

    /// Nothing is running or queued in the engine (or there is no engine).
    var isIdle: Bool {
        guard case .ready(let server) = state else { return true }
        let stats = server.engine.stats
        return stats.running == 0 && stats.waiting == 0
    }

    /// The server, for a request that would start generating: 503 with Retry-After while draining.
    func serverTakingWork() throws -> ModelServer {
        let server = try server()
        if isDraining {
            var error = APIError(.serviceUnavailable, "the server is shutting down; send the request to another instance")
            error.headers[.retryAfter] = "2"
            throw error
        }
        return server
    }

    func server() throws -> ModelServer {
        switch state {
        case .ready(let server): return server
        case .loading: throw APIError(.serviceUnavailable, "the model is still loading")
        case .failed(let message): throw APIError(.serviceUnavailable, "the model failed to load: \(message)")
        }
    }
}
