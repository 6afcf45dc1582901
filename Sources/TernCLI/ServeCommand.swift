// `tern serve`: the OpenAI-compatible server.
import ArgumentParser
import TernHub
import Foundation
import TernFormats
import Logging
import NIOCore
import TernEngine
import TernModels
import TernOps
import TernServer

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "Serve a model over the OpenAI API.")

    @OptionGroup(title: "Model") var model: ServeModelOptions
    @OptionGroup(title: "Engine and batching") var engine: ServeEngineOptions
    @OptionGroup(title: "HTTP and connections") var http: ServeHTTPOptions
    @OptionGroup(title: "Security (API keys, TLS, who may connect)") var security: ServeSecurityOptions
    @OptionGroup(title: "Metrics") var metrics: ServeMetricsOptions
    @OptionGroup(title: "Logging") var logging: ServeLoggingOptions
    @Option(help: "YAML file with the same settings (flag names as keys).") var config: String?

    /// KV blocks for every sequence at full length, but at most a quarter of the machine's memory
    /// (and at least one full-length sequence), so a large model does not take all RAM for its cache.
    static func kvBlocks(_ loaded: LoadedModel, _ configuration: EngineConfiguration, bytes: Int?) throws -> Int {
        let perSequence = (configuration.maxModelLength + configuration.blockSize - 1) / configuration.blockSize
        let bytesPerBlock = configuration.blockSize * loaded.model.kvBytesPerToken
        if let bytes {
            guard bytes / bytesPerBlock >= perSequence else {
                throw SettingsError("--kv-cache-memory \(bytes) bytes holds \(bytes / bytesPerBlock) blocks; one sequence of --max-model-len \(configuration.maxModelLength) needs \(perSequence)")
            }
            return bytes / bytesPerBlock
        }
        let budget = Int(ProcessInfo.processInfo.physicalMemory / 4) / max(bytesPerBlock, 1)
        return min(perSequence * configuration.maxNumSeqs, max(perSequence, budget))
    }

    /// Refuses to start (rather than be killed for memory later) when the weights, the KV cache of
    /// one full-length sequence, activations and runtime do not fit the memory this process may use.
    static func checkMemory(path: String, settings: ServeSettings, loadOptions: LoadOptions) throws {
        let plan = try MemoryPlan.of(path: URL(fileURLWithPath: path), quantization: loadOptions.quantization, kvCache: loadOptions.kvCache,
                                     contextTokens: settings.maxModelLength > 0 ? settings.maxModelLength : nil, sequences: 1,
                                     batchTokens: settings.maxBatchedTokens)
        let limit = MemoryLimit.usable()
        guard plan.totalBytes > limit.bytes else { return }
        throw SettingsError("the model needs \(formatBytes(plan.totalBytes)) (weights \(formatBytes(plan.weightBytes)), KV cache for one sequence "
                            + "\(formatBytes(plan.kvBytes)), activations and runtime \(formatBytes(plan.activationBytes + MemoryPlan.runtimeBytes))) "
                            + "but \(limit.source) allows \(formatBytes(limit.bytes)); lower --max-model-len or --max-num-batched-tokens, "
                            + "choose a smaller --quantization (q4_k_m), or give the process more memory (tern estimate shows the sums)")
    }

    /// "2GiB", "512MiB", "1.5GB" or a plain number of bytes.
    static func byteCount(_ text: String) throws -> Int {
        let units: [(String, Double)] = [("GiB", 1_073_741_824), ("MiB", 1_048_576), ("KiB", 1024), ("GB", 1e9), ("MB", 1e6), ("KB", 1e3), ("B", 1)]
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let (number, factor) = units.first { trimmed.hasSuffix($0.0) }.map { (String(trimmed.dropLast($0.0.count)), $0.1) } ?? (trimmed, 1)
        guard let value = Double(number.trimmingCharacters(in: .whitespaces)), value > 0 else {
            throw SettingsError("cannot read a size from '\(text)' (use e.g. 2GiB or 512MiB)")
        }
        return Int(value * factor)
    }

    func run() async throws {
        do {
            let sources = try SettingSources(configFile: config)
            let settings = try resolve(sources)
            let logFile = try settings.logFile.map { try RotatingLogFile(path: $0, maxBytes: settings.logMaxBytes, backups: settings.logBackups) }
            LogSink(format: settings.logFormat, file: logFile).bootstrap(level: settings.logLevel)
            let logger = Logger(label: "tern")
            let loadOptions = try loadingOptions(sources)
            try await ServerRunner.run(options: settings.server, gracePeriod: .seconds(settings.graceSeconds), logger: logger, logFile: logFile) {
                try Self.load(settings, loadOptions: loadOptions, logger: logger)
            }
        } catch let error as SettingsError {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode(1)
        } catch let error as ServerRunError {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }

    static func toolCallParser(_ name: String?) throws -> ToolCallFormat? {
        guard let name, name != "auto" else { return nil }
        guard let format = ToolCallFormat(rawValue: name) else {
            throw SettingsError("unknown tool-call parser '\(name)' (\(ToolCallFormat.names), auto)")
        }
        return format
    }

    private func resolve(_ sources: SettingSources) throws -> ServeSettings {
        let levelName = sources.resolve(logging.logLevel, key: "log-level") ?? "info"
        guard let level = Logger.Level(rawValue: levelName.lowercased()) else { throw SettingsError("unknown log level '\(levelName)'") }
        let formatName = sources.resolve(logging.logFormat, key: "log-format") ?? "text"
        guard let format = LogFormat(rawValue: formatName) else { throw SettingsError("unknown log format '\(formatName)' (text, json)") }
        var settings = ServeSettings(
            modelPath: try sources.resolve(model.model, env: "MODEL_PATH", key: "model") ?? DemoModel.locate().path,
            servedModelName: sources.resolve(model.servedModelName, key: "served-model-name"),
            chatTemplate: sources.resolve(model.chatTemplate, key: "chat-template"),
            toolCallParser: try Self.toolCallParser(sources.resolve(model.toolCallParser, key: "tool-call-parser")),
            maxModelLength: try sources.resolve(model.maxModelLength, key: "max-model-len", default: 0),
            maxNumSeqs: try sources.resolve(engine.maxNumSeqs, key: "max-num-seqs", default: 16),
            maxQueued: try sources.resolve(engine.maxQueued, key: "max-num-queued-reqs", default: 256),
            maxBatchedTokens: try sources.resolve(engine.maxBatchedTokens, key: "max-num-batched-tokens", default: 2048),
            kvCacheBytes: try sources.resolve(engine.kvCacheMemory, key: "kv-cache-memory").map(Self.byteCount),
            prefixCaching: !sources.resolve(engine.noPrefixCaching, key: "no-enable-prefix-caching"),
            graceSeconds: try sources.resolve(http.grace, key: "shutdown-grace-seconds", default: 30),
            logLevel: level, logFormat: format,
            logFile: sources.resolve(logging.logFile, key: "log-file"),
            logMaxBytes: try Self.byteCount(sources.resolve(logging.logMaxSize, key: "log-max-size") ?? "100MiB"),
            logBackups: try sources.resolve(logging.logBackups, key: "log-backups", default: 5))
        settings.noDownload = sources.resolve(model.noDownload, key: "no-download")
        settings.server = try serverOptions(sources)
        guard settings.maxNumSeqs > 0, settings.maxQueued >= 0, settings.maxBatchedTokens > 0, settings.logBackups >= 0 else {
            throw SettingsError("--max-num-seqs and --max-num-batched-tokens must be positive, --max-num-queued-reqs and --log-backups not negative")
        }
        return settings
    }

    private func serverOptions(_ sources: SettingSources) throws -> ServerOptions {
        var options = ServerOptions()
        options.host = sources.resolve(http.host, key: "host") ?? "0.0.0.0"
        options.port = try sources.resolve(http.port, key: "port", default: 8000)
        options.maxBodyBytes = try sources.resolve(http.maxBodyBytes, key: "max-request-body-bytes", default: 16 << 20)
        options.connection.maxHeaderBytes = try sources.resolve(http.maxHeaderBytes, key: "max-header-bytes", default: 64 << 10)
        let timeouts = [try sources.resolve(http.keepAliveTimeout, key: "timeout-keep-alive", default: 75),
                        try sources.resolve(http.headerTimeout, key: "header-timeout", default: 10),
                        try sources.resolve(http.bodyTimeout, key: "body-timeout", default: 30)]
        guard timeouts.allSatisfy({ $0 > 0 }), options.maxBodyBytes > 0, options.connection.maxHeaderBytes >= 1024, (0...65535).contains(options.port) else {
            throw SettingsError("timeouts and --max-request-body-bytes must be positive, --max-header-bytes at least 1024, --port in 0...65535")
        }
        options.connection.keepAliveTimeout = .seconds(Int64(timeouts[0]))
        options.connection.headerTimeout = .seconds(Int64(timeouts[1]))
        options.connection.bodyTimeout = .seconds(Int64(timeouts[2]))
        options.apiKeys = security.apiKeys.isEmpty
            ? (sources.text(env: "API_KEY", key: "api-key")?.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } ?? [])
            : security.apiKeys
        options.apiKeyFile = sources.resolve(security.apiKeyFile, key: "api-key-file")
        options.tls = try tlsFiles(sources)
        options.access.allowedIPs = try NetworkRange.list(sources.resolve(security.allowedIPs, key: "allowed-ips") ?? "")
        options.access.trustedProxies = try NetworkRange.list(sources.resolve(security.trustedProxies, key: "trusted-proxies") ?? "")
        options.access.allowedOrigins = (sources.resolve(security.allowedOrigins, key: "allowed-origins") ?? "")
            .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        options.trustRequestChatTemplate = sources.resolve(security.trustRequestChatTemplate, key: "trust-request-chat-template")
        options.protectMetrics = sources.resolve(metrics.protectMetrics, key: "protect-metrics")
        options.logRequests = sources.resolve(logging.logRequests, key: "log-requests")
        let metricsPort = try sources.resolve(metrics.metricsPort, env: "PROMETHEUS_PORT", key: "metrics-port", default: 0)
        if try !sources.resolve(metrics.enableMetrics, env: "ENABLE_METRICS", key: "enable-metrics", default: true) {
            options.metrics = .disabled
        } else if metricsPort > 0 {
            guard metricsPort != options.port else { throw SettingsError("--metrics-port must differ from --port") }
            options.metrics = .ownPort(metricsPort)
        }
        return options
    }

    private func tlsFiles(_ sources: SettingSources) throws -> TLSFiles? {
        let certificate = sources.resolve(security.certificateFile, key: "ssl-certfile")
        let key = sources.resolve(security.keyFile, key: "ssl-keyfile")
        let clientCA = sources.resolve(security.clientCAFile, key: "ssl-ca-certs")
        switch (certificate, key) {
        case (nil, nil):
            if clientCA != nil { throw SettingsError("--ssl-ca-certs needs --ssl-certfile and --ssl-keyfile") }
            return nil
        case (let certificate?, let key?):
            return TLSFiles(certificateFile: certificate, keyFile: key, clientCAFile: clientCA)
        default:
            throw SettingsError("--ssl-certfile and --ssl-keyfile go together")
        }
    }

    private func loadingOptions(_ sources: SettingSources) throws -> LoadOptions {
        var options = model.loading.options
        if model.loading.quantization == .none, let name = sources.text(env: "QUANTIZATION", key: "quantization") {
            guard let quantization = Quantization(name: name) else { throw SettingsError("unknown quantization '\(name)' (\(Quantization.names))") }
            options.quantization = quantization
        }
        if model.loading.kvCacheDType == nil, let name = sources.text(env: "KV_CACHE_DTYPE", key: "kv-cache-dtype") {
            guard let setting = KVCacheSetting(name: name) else { throw SettingsError("unknown KV cache dtype '\(name)' (\(KVCacheSetting.names))") }
            options.kvCache = setting
        }
        if model.loading.threads == nil, sources.text(env: "THREADS", key: "threads") != nil {
            options.threads = try sources.resolve(nil, key: "threads", default: 1)
        }
        return options
    }

    private static func load(_ settings: ServeSettings, loadOptions: LoadOptions, logger: Logger) throws -> ModelServer {
        let start = Date()
        // A repository id is fetched here, while the server answers 503 "loading".
        let locator = ModelLocator()
        let path: String
        do { path = try locator.locateWaiting(settings.modelPath, download: !settings.noDownload) } catch let error as HubError {
            throw SettingsError(error.message)
        }
        try Self.checkMemory(path: path, settings: settings, loadOptions: loadOptions)
        let loaded = try LoadedModel(path: URL(fileURLWithPath: path), options: loadOptions)
        var configuration = EngineConfiguration(
            maxModelLength: settings.maxModelLength > 0 ? settings.maxModelLength : min(loaded.model.config.maxPositionEmbeddings, 4096))
        configuration.maxNumSeqs = settings.maxNumSeqs
        configuration.maxNumQueuedRequests = settings.maxQueued
        configuration.maxNumBatchedTokens = settings.maxBatchedTokens
        configuration.enablePrefixCaching = settings.prefixCaching
        configuration.blockCount = try kvBlocks(loaded, configuration, bytes: settings.kvCacheBytes)
        // A repository id is the model's name, as vLLM names it.
        let name = settings.servedModelName ?? locator.repository(settings.modelPath)?.description ?? loaded.name
        let server = ModelServer(name: name, loaded: loaded,
                                 engine: Engine(loaded: loaded, configuration: configuration), chatTemplateFile: settings.chatTemplate,
                                 toolCallParser: settings.toolCallParser)
        let stats = server.engine.stats
        let types = loaded.model.weightTypes.sorted { $0.key < $1.key }.map { "\($0.key) \(formatBytes($0.value))" }.joined(separator: ", ")
        logger.info("weights: \(types)")
        let perSequence = (configuration.maxModelLength + configuration.blockSize - 1) / configuration.blockSize
        let kvBytes = stats.totalBlocks * configuration.blockSize * loaded.model.kvBytesPerToken
        let seconds = String(format: "%.2f", Date().timeIntervalSince(start))
        logger.info("loaded \(loaded.model.config.architecture) from \(loaded.path.path) as '\(server.name)' in \(seconds)s; weights \(formatBytes(loaded.model.weightBytes)), KV cache \(formatBytes(kvBytes)) (\(loaded.model.kvCacheType)) in \(stats.totalBlocks) blocks of \(configuration.blockSize) tokens (\(stats.totalBlocks / perSequence) sequences of \(configuration.maxModelLength) tokens at once); resident memory \(formatBytes(ProcessMemory.residentBytes)), peak \(formatBytes(ProcessMemory.peakResidentBytes))")
        switch server.chatPrompt {
        case .failure(let error): logger.warning("chat requests will fail: \(error.message)")
        case .success(let prompt): try prompt.checkRendersWithinLimits()
        }
        return server
    }
}
