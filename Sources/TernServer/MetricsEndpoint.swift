// GET /metrics in Prometheus' text format: on the API port, on a port of its own (so it can stay
// inside the cluster while the API is exposed), or nowhere.
import Hummingbird
import HummingbirdCore
import Logging

public enum MetricsExposure: Sendable, Equatable {
    case apiPort
    case ownPort(Int)
    case disabled
}

struct MetricsEndpoint {
    let slot: ModelSlot

    func register(on routes: RouteTable) {
        routes.get("/metrics") { _, _ in
            let server = try slot.server()
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                            body: .init(byteBuffer: ByteBuffer(string: server.metrics.exposition(server.engine.stats) + slot.responses.exposition)))
        }
    }
}

/// The listener of `--metrics-port`: /metrics only, open to whoever reaches the port.
public func buildMetricsApplication(slot: ModelSlot, host: String, port: Int, logger: Logger,
                                    onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in })
    -> Application<RouterResponder<TernRequestContext>> {
    let router = Router(context: TernRequestContext.self)
    router.add(middleware: OpenAIErrorMiddleware())
    MetricsEndpoint(slot: slot).register(on: RouteTable(router: router))
    return Application(router: router, configuration: .init(address: .hostname(host, port: port), serverName: "tern-metrics"),
                       onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? port) }, logger: logger)
}
