// Runs the server: listens at once (health says 503 while the model loads), loads the model
// on another thread, and on SIGTERM/SIGINT stops accepting, lets running requests finish
// within the grace period, then stops the engine.
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle

public enum ServerRunner {
    public static func run(options: ServerOptions, gracePeriod: Duration, logger: Logger,
                           load: @escaping @Sendable () throws -> ModelServer) async throws {
        let slot = ModelSlot()
        let app = buildApplication(slot: slot, options: options, logger: logger) { port in
            logger.info("listening on http://\(options.host):\(port)")
        }
        var configuration = ServiceGroupConfiguration(services: [app], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        configuration.maximumGracefulShutdownDuration = gracePeriod
        configuration.maximumCancellationDuration = .seconds(5)
        let group = ServiceGroup(configuration: configuration)
        let loader = Task.detached {
            do {
                let server = try load()
                slot.set(.ready(server))
                return true
            } catch {
                logger.error("cannot load the model: \(error)")
                slot.set(.failed("\(error)"))
                await group.triggerGracefulShutdown()
                return false
            }
        }
        try await group.run()
        if case .ready(let server) = slot.state { server.engine.shutdown() }
        guard await loader.value else { throw ServerRunError.modelLoadFailed }
    }
}

public enum ServerRunError: Error, CustomStringConvertible {
    case modelLoadFailed

    public var description: String { "the model could not be loaded (see the log above)" }
}
