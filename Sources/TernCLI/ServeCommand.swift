// `tern serve`: the OpenAI-compatible server.
import ArgumentParser
import Foundation
import Logging
import TernEngine
import TernModels
import TernServer

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "Serve a model over the OpenAI API.")

    @Option(help: "Model folder (env MODEL_PATH).") var model: String?
    @Option(name: .customLong("served-model-name"), help: "Model id clients use (default: the folder's name).") var servedModelName: String?
    @Option(help: "Address to listen on (env HOST, default 0.0.0.0).") var host: String?
    @Option(help: "Port (env PORT, default 8000).") var port: Int?
    @Option(name: .customLong("api-key"), help: "Accepted API key, repeatable (env API_KEY, comma-separated).") var apiKeys: [String] = []
    @Option(name: .customLong("max-model-len"), help: "Context length (default: the model's, at most 4096).") var maxModelLength: Int?
    @Option(name: .customLong("max-num-seqs"), help: "Sequences run together (default 16).") var maxNumSeqs: Int?
    @Option(name: .customLong("max-num-queued-reqs"), help: "Waiting requests before 429 (default 256).") var maxQueued: Int?
    @Option(name: .customLong("max-num-batched-tokens"), help: "Tokens per engine step; longer prompts are prefilled in chunks (default 2048).") var maxBatchedTokens: Int?
    @Option(name: .customLong("kv-cache-memory"), help: "KV cache size, e.g. 2GiB or 512MiB (default: a quarter of RAM, capped at what the sequences can use).") var kvCacheMemory: String?
    @Flag(name: .customLong("no-enable-prefix-caching"), help: "Do not reuse the KV cache of earlier requests with the same start.") var noPrefixCaching = false
    @Option(name: .customLong("max-request-body-bytes"), help: "Largest request body (default 16 MiB).") var maxBodyBytes: Int?
    @Option(name: .customLong("timeout-keep-alive"), help: "Seconds an idle keep-alive connection is kept (default 75).") var keepAliveTimeout: Int?
    @Option(name: .customLong("header-timeout"), help: "Seconds a request head may take to arrive (default 10).") var headerTimeout: Int?
    @Option(name: .customLong("body-timeout"), help: "Seconds a request body may pause (default 30).") var bodyTimeout: Int?
    @Option(name: .customLong("chat-template"), help: "Jinja chat template file to use instead of the model's.") var chatTemplate: String?
    @Option(name: .customLong("shutdown-grace-seconds"), help: "Time running requests get to finish on SIGTERM (default 30).") var grace: Int?
    @Flag(name: .customLong("protect-metrics"), help: "Require the API key on /metrics too.") var protectMetrics = false
    @Flag(name: .customLong("trust-request-chat-template"),
          help: "Accept 'chat_template' and 'chat_template_kwargs' in requests (templates are code the server runs).")
    var trustRequestChatTemplate = false
    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error (env LOG_LEVEL).") var logLevel: String?
    @Option(help: "YAML file with the same settings (flag names as keys).") var config: String?
    @OptionGroup var loading: LoadingOptions

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
            var options = ServerOptions()
            options.host = sources.resolve(host, env: "HOST", key: "host") ?? "0.0.0.0"
            options.port = try sources.resolve(port, env: "PORT", key: "port", default: 8000)
            options.apiKeys = apiKeys.isEmpty
                ? (sources.text(env: "API_KEY", key: "api-key")?.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } ?? [])
                : apiKeys
            options.maxBodyBytes = try sources.resolve(maxBodyBytes, env: nil, key: "max-request-body-bytes", default: 16 << 20)
            options.protectMetrics = sources.resolve(protectMetrics, env: nil, key: "protect-metrics")
            options.connection.keepAliveTimeout = .seconds(Int64(try sources.resolve(keepAliveTimeout, env: nil, key: "timeout-keep-alive", default: 75)))
            options.connection.headerTimeout = .seconds(Int64(try sources.resolve(headerTimeout, env: nil, key: "header-timeout", default: 10)))
            options.connection.bodyTimeout = .seconds(Int64(try sources.resolve(bodyTimeout, env: nil, key: "body-timeout", default: 30)))
            options.trustRequestChatTemplate = sources.resolve(trustRequestChatTemplate, env: nil, key: "trust-request-chat-template")
            let modelPath = try sources.resolve(model, env: "MODEL_PATH", key: "model") ?? DemoModel.locate().path
            let levelName = sources.resolve(logLevel, env: "LOG_LEVEL", key: "log-level") ?? "info"
            guard let level = Logger.Level(rawValue: levelName.lowercased()) else { throw SettingsError("unknown log level '\(levelName)'") }
            LoggingSystem.bootstrap { label in
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = level
                return handler
            }
            let logger = Logger(label: "tern")
            let name = sources.resolve(servedModelName, env: "SERVED_MODEL_NAME", key: "served-model-name")
            let requestedLength = try sources.resolve(maxModelLength, env: "MAX_MODEL_LEN", key: "max-model-len", default: 0)
            let seqs = try sources.resolve(maxNumSeqs, env: nil, key: "max-num-seqs", default: 16)
            let queued = try sources.resolve(maxQueued, env: nil, key: "max-num-queued-reqs", default: 256)
            let batchedTokens = try sources.resolve(maxBatchedTokens, env: nil, key: "max-num-batched-tokens", default: 2048)
            let prefixCaching = !sources.resolve(noPrefixCaching, env: nil, key: "no-enable-prefix-caching")
            let kvBytes = try sources.resolve(kvCacheMemory, env: nil, key: "kv-cache-memory").map(Self.byteCount)
            let template = sources.resolve(chatTemplate, env: nil, key: "chat-template")
            let graceSeconds = try sources.resolve(grace, env: nil, key: "shutdown-grace-seconds", default: 30)
            var loadOptions = loading.options
            if loading.quantization == .none, let name = sources.text(env: "QUANTIZATION", key: "quantization") {
                guard let quantization = Quantization(rawValue: name) else { throw SettingsError("unknown quantization '\(name)' (none, q8_0, q4_0, q4_k)") }
                loadOptions.quantization = quantization
            }
            if loading.threads == nil, sources.text(env: "THREADS", key: "threads") != nil {
                loadOptions.threads = try sources.resolve(nil, env: "THREADS", key: "threads", default: 1)
            }
            guard seqs > 0, queued >= 0, batchedTokens > 0, options.maxBodyBytes > 0, (1...65535).contains(options.port) || options.port == 0 else {
                throw SettingsError("--max-num-seqs must be positive, --max-num-queued-reqs not negative, --port in 0...65535")
            }
            let chosenLoadOptions = loadOptions
            try await ServerRunner.run(options: options, gracePeriod: .seconds(graceSeconds), logger: logger) {
                let start = Date()
                let loaded = try LoadedModel(path: URL(fileURLWithPath: modelPath), options: chosenLoadOptions)
                var engineConfiguration = EngineConfiguration(
                    maxModelLength: requestedLength > 0 ? requestedLength : min(loaded.model.config.maxPositionEmbeddings, 4096))
                engineConfiguration.maxNumSeqs = seqs
                engineConfiguration.maxNumQueuedRequests = queued
                engineConfiguration.maxNumBatchedTokens = batchedTokens
                engineConfiguration.enablePrefixCaching = prefixCaching
                engineConfiguration.blockCount = try Self.kvBlocks(loaded, engineConfiguration, bytes: kvBytes)
                let server = ModelServer(name: name ?? loaded.name, loaded: loaded,
                                         engine: Engine(loaded: loaded, configuration: engineConfiguration), chatTemplateFile: template)
                let stats = server.engine.stats
                let types = loaded.model.weightTypes.sorted { $0.key < $1.key }.map { "\($0.key) \(formatBytes($0.value))" }.joined(separator: ", ")
                logger.info("weights: \(types)")
                let perSequence = (engineConfiguration.maxModelLength + engineConfiguration.blockSize - 1) / engineConfiguration.blockSize
                let kvBytes = stats.totalBlocks * engineConfiguration.blockSize * loaded.model.kvBytesPerToken
                let seconds = String(format: "%.2f", Date().timeIntervalSince(start))
                logger.info("loaded \(loaded.model.config.architecture) from \(loaded.path.path) as '\(server.name)' in \(seconds)s; weights \(formatBytes(loaded.model.weightBytes)), KV cache \(formatBytes(kvBytes)) in \(stats.totalBlocks) blocks of \(engineConfiguration.blockSize) tokens (\(stats.totalBlocks / perSequence) sequences of \(engineConfiguration.maxModelLength) tokens at once)")
                switch server.chatPrompt {
                case .failure(let error): logger.warning("chat requests will fail: \(error.message)")
                case .success(let prompt): try prompt.checkRendersWithinLimits()
                }
                return server
            }
        } catch let error as SettingsError {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode(1)
        } catch let error as ServerRunError {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }
}
