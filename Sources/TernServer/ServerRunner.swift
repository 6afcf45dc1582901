// Runs the server: listens at once (health says 503 while the model loads), loads the model
// on another thread, and drains on SIGTERM/SIGINT: the listener stays open for the grace
// period while /health says 503 and new generation requests get 503 with Retry-After (so load
// balancers and Kubernetes move traffic), running requests finish; at the end of the grace
// those still running get a last error event, then the server closes. A second signal ends
// the grace at once. SIGHUP re-reads the API key file and the TLS certificate and reopens the
// log file (after logrotate moved it); certificate files are also watched for changes.
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import UnixSignals

public enum ServerRunner {
    public static func run(options: ServerOptions, gracePeriod: Duration, logger: Logger, logFile: RotatingLogFile? = nil,
                           load: @escaping @Sendable () throws -> ModelServer) async throws {
        let slot = ModelSlot()
        let apiKeys = try APIKeys(fixed: options.apiKeys, file: options.apiKeyFile, logger: logger)
        let tls = try options.tls.map { try TLSCertificates(files: $0, logger: logger) }
        warnIfExposed(options, keys: apiKeys, logger: logger)
        let scheme = tls == nil ? "http" : "https"
        let app = buildApplication(slot: slot, options: options, logger: logger, apiKeys: apiKeys, tls: tls) { port in
            logger.info("listening on \(scheme)://\(options.host):\(port)")
        }
        var services: [any Service] = [app]
        if case .ownPort(let port) = options.metrics {
            services.append(buildMetricsApplication(slot: slot, host: options.host, port: port, logger: logger) { port in
                logger.info("metrics on http://\(options.host):\(port)/metrics")
            })
        }
        var configuration = ServiceGroupConfiguration(services: services, logger: logger)
        // After the drain: time for the last events to be written before connections are cut.
        configuration.maximumGracefulShutdownDuration = .seconds(5)
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
        let signals = await UnixSignalsSequence(trapping: .sigterm, .sigint)
        let received = SignalCount()
        let listener = Task {
            for await signal in signals where received.add() == 1 {
                Task {
                    await drain(after: signal, slot: slot, grace: gracePeriod, received: received, logger: logger)
                    await group.triggerGracefulShutdown()
                }
            }
        }
        let hangups = await UnixSignalsSequence(trapping: .sighup)
        let reloader = Task {
            for await _ in hangups {
                apiKeys.reload()
                tls?.reload()
                logFile?.reopen()
            }
        }
        let watcher = Task { await tls?.watch() }
        try await group.run()
        listener.cancel()
        reloader.cancel()
        watcher.cancel()
        if case .ready(let server) = slot.state { server.engine.shutdown() }
        guard await loader.value else { throw ServerRunError.modelLoadFailed }
    }

    /// A server anyone on the network can reach with no key is worth a loud word at startup.
    private static func warnIfExposed(_ options: ServerOptions, keys: APIKeys, logger: Logger) {
        let loopback = ["127.0.0.1", "::1", "localhost"].contains(options.host) || options.host.hasPrefix("127.")
        guard !loopback, keys.all.isEmpty else { return }
        let advice = "Set --api-key / API_KEY / --api-key-file, or --host 127.0.0.1, or --allowed-ips."
        logger.warning("listening on \(options.host) with NO API KEY: anyone who reaches this port can use the model. \(advice)")
    }

    /// Returns when the server should close: once nothing runs, the grace is over, or a second signal came.
    private static func drain(after signal: UnixSignal, slot: ModelSlot, grace: Duration, received: SignalCount, logger: Logger) async {
        logger.notice("\(signal): draining for up to \(grace) (health 503, new requests 503); a second signal stops at once")
        slot.beginDraining()
        let deadline = ContinuousClock.now + grace
        while ContinuousClock.now < deadline, received.count == 1, !slot.isIdle {
            try? await Task.sleep(for: .milliseconds(50))
        }
        if case .ready(let server) = slot.state, !slot.isIdle {
            logger.warning("grace period over: ending the requests still running")
            // Each running request gets a last error event; its stream still ends with [DONE].
            server.engine.shutdown()
        }
    }
}

/// Shutdown signals received so far.
final class SignalCount: @unchecked Sendable {
    private let lock = NSLock()
    private var received = 0

    /// Counts one more and returns the new count.
    func add() -> Int {
        lock.lock()
        defer { lock.unlock() }
        received += 1
        return received
    }

    var count: Int {
        lock.lock()
        defer { lock.unlock() }
        return received
    }
}

public enum ServerRunError: Error, CustomStringConvertible {
    case modelLoadFailed

    public var description: String { "the model could not be loaded (see the log above)" }
}
