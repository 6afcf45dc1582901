// Building the HTTP application: the router with its middleware and controllers.
import Hummingbird
import HummingbirdCore
import Logging

public struct ServerOptions: Sendable {
    public var host = "0.0.0.0"
    public var port = 8000
    /// Keys from flags or API_KEY; `apiKeyFile` adds more, re-read on SIGHUP.
    public var apiKeys: [String] = []
    public var apiKeyFile: String?
    /// HTTPS with these files; plain HTTP when nil.
    public var tls: TLSFiles?
    public var maxBodyBytes = 16 << 20
    /// Header, body and keep-alive timeouts of each connection.
    public var connection = ConnectionLimits()
    /// Require the API key on /metrics too (when it is served on the API port).
    public var protectMetrics = false
    public var metrics = MetricsExposure.apiPort
    /// Log prompts and completions (off by default: they may hold personal data).
    public var logRequests = false
    /// Who may connect, and whose X-Forwarded-For is believed.
    public var access = AccessRules()
    /// Let requests bring their own `chat_template` and `chat_template_kwargs` (code the server runs).
    public var trustRequestChatTemplate = false

    public init() {}
}

/// The API's router; `apiKeys` defaults to the options' fixed keys.
public func buildRouter(slot: ModelSlot, options: ServerOptions, logger: Logger, apiKeys: APIKeys? = nil) -> Router<TernRequestContext> {
    let router = Router(context: TernRequestContext.self)
    let clientAddress = ClientAddressResolver(trustedProxies: options.access.trustedProxies)
    let routes = RouteTable(router: router)
    router.add(middleware: RequestIdMiddleware())
    router.add(middleware: RequestLogMiddleware(logger: logger, logRequests: options.logRequests, clientAddress: clientAddress,
                                                responses: slot.responses))
    router.add(middleware: OpenAIErrorMiddleware())
    router.add(middleware: AllowListMiddleware(allowed: options.access.allowedIPs, clientAddress: clientAddress))
    router.add(middleware: CORSMiddleware(allowedOrigins: options.access.allowedOrigins, routes: routes))
    router.add(middleware: MethodMiddleware(routes: routes))
    var open: Set<String> = ["/health", "/livez"]
    if !options.protectMetrics { open.insert("/metrics") }
    let keys = apiKeys ?? APIKeys(fixed: options.apiKeys, logger: logger)
    router.add(middleware: APIKeyMiddleware(apiKeys: keys, openPaths: open))
    OpenAIController(slot: slot, options: options, connections: ConnectionWatcher()).register(on: routes)
    UtilityController(slot: slot, options: options).register(on: routes)
    if options.metrics == .apiPort { MetricsEndpoint(slot: slot).register(on: routes) }
    return router
}

public func buildApplication(slot: ModelSlot, options: ServerOptions, logger: Logger, apiKeys: APIKeys? = nil, tls: TLSCertificates? = nil,
                             onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in })
    -> Application<RouterResponder<TernRequestContext>> {
    var limits = options.connection
    limits.maxBodyBytes = options.maxBodyBytes
    return Application(
        router: buildRouter(slot: slot, options: options, logger: logger, apiKeys: apiKeys),
        server: HTTPServerBuilder { [limits] responder in HTTPConnectionChannel(responder: responder, limits: limits, tls: tls) },
        configuration: .init(address: .hostname(options.host, port: options.port), serverName: "tern"),
        onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? options.port) },
        logger: logger
    )
}
