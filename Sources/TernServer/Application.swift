// Building the HTTP application: the router with its middleware and controllers.
import Hummingbird
import HummingbirdCore
import Logging

public struct ServerOptions: Sendable {
    public var host = "0.0.0.0"
    public var port = 8000
    public var apiKeys: [String] = []
    public var maxBodyBytes = 16 << 20
    /// Header, body and keep-alive timeouts of each connection.
    public var connection = ConnectionLimits()
    /// Require the API key on /metrics too.
    public var protectMetrics = false
    /// Let requests bring their own `chat_template` and `chat_template_kwargs` (code the server runs).
    public var trustRequestChatTemplate = false

    public init() {}
}

public func buildRouter(slot: ModelSlot, options: ServerOptions, logger: Logger) -> Router<TernRequestContext> {
    let router = Router(context: TernRequestContext.self)
    router.add(middleware: RequestLogMiddleware(logger: logger))
    router.add(middleware: OpenAIErrorMiddleware())
    let routes = RouteTable(router: router)
    router.add(middleware: MethodMiddleware(routes: routes))
    var open: Set<String> = ["/health", "/livez"]
    if !options.protectMetrics { open.insert("/metrics") }
    router.add(middleware: APIKeyMiddleware(keys: options.apiKeys, openPaths: open))
    OpenAIController(slot: slot, options: options, connections: ConnectionWatcher()).register(on: routes)
    UtilityController(slot: slot, options: options).register(on: routes)
    return router
}

public func buildApplication(slot: ModelSlot, options: ServerOptions, logger: Logger,
                             onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in })
    -> Application<RouterResponder<TernRequestContext>> {
    var limits = options.connection
    limits.maxBodyBytes = options.maxBodyBytes
    return Application(
        router: buildRouter(slot: slot, options: options, logger: logger),
        server: HTTPServerBuilder { [limits] responder in HTTPConnectionChannel(responder: responder, limits: limits) },
        configuration: .init(address: .hostname(options.host, port: options.port), serverName: "tern"),
        onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? options.port) },
        logger: logger
    )
}
