// The flags of `tern serve`, grouped by topic for --help. Each setting comes from its flag,
// then the environment (the flag's name in upper case with '_', unless named otherwise), then
// the YAML file (the flag's name as key), then its default.
import ArgumentParser
import Foundation
import Logging
import NIOCore
import TernEngine
import TernServer

struct ServeModelOptions: ParsableArguments {
    @Option(help: "Model folder or GGUF file, or a repository id (owner/name) from the download cache, fetched first if missing (env MODEL_PATH; default: the built-in tern-demo).") var model: String?
    @Flag(name: .customLong("no-download"), help: "A repository id given as the model must already be in the cache (env NO_DOWNLOAD).") var noDownload = false
    @Option(name: .customLong("served-model-name"), help: "Model id clients use (default: the folder's name).") var servedModelName: String?
    @Option(name: .customLong("chat-template"), help: "Jinja chat template file to use instead of the model's.") var chatTemplate: String?
    @Option(name: .customLong("tool-call-parser"),
            help: "How the model writes tool calls: hermes, llama3_json, mistral, chatglm3 or auto (default: from the chat template).")
    var toolCallParser: String?
    @Option(name: .customLong("max-model-len"), help: "Context length (default: the model's, at most 4096).") var maxModelLength: Int?
    @OptionGroup var loading: LoadingOptions
}

struct ServeEngineOptions: ParsableArguments {
    @Option(name: .customLong("max-num-seqs"), help: "Sequences run together (default 16).") var maxNumSeqs: Int?
    @Option(name: .customLong("max-num-queued-reqs"), help: "Waiting requests besides the running ones before 429 (default 256).") var maxQueued: Int?
    @Option(name: .customLong("max-num-batched-tokens"), help: "Tokens per engine step; longer prompts are prefilled in chunks (default 2048).") var maxBatchedTokens: Int?
    @Option(name: .customLong("kv-cache-memory"), help: "KV cache size, e.g. 2GiB or 512MiB (default: a quarter of RAM, capped at what the sequences can use).") var kvCacheMemory: String?
    @Flag(name: .customLong("no-enable-prefix-caching"), help: "Do not reuse the KV cache of earlier requests with the same start.") var noPrefixCaching = false
}

struct ServeHTTPOptions: ParsableArguments {
    @Option(help: "Address to listen on (default 0.0.0.0).") var host: String?
    @Option(help: "Port (default 8000).") var port: Int?
    @Option(name: .customLong("max-request-body-bytes"), help: "Largest request body (default 16 MiB).") var maxBodyBytes: Int?
    @Option(name: .customLong("max-header-bytes"), help: "Largest request head, all header lines together (default 64 KiB).") var maxHeaderBytes: Int?
    @Option(name: .customLong("timeout-keep-alive"), help: "Seconds an idle keep-alive connection is kept (default 75).") var keepAliveTimeout: Int?
    @Option(name: .customLong("header-timeout"), help: "Seconds a request head may take to arrive (default 10).") var headerTimeout: Int?
    @Option(name: .customLong("body-timeout"), help: "Seconds a request body may pause (default 30).") var bodyTimeout: Int?
    @Option(name: .customLong("shutdown-grace-seconds"), help: "Time running requests get to finish on SIGTERM (default 30).") var grace: Int?
}

struct ServeSecurityOptions: ParsableArguments {
    @Option(name: .customLong("api-key"), help: "Accepted API key, repeatable (env API_KEY, comma-separated).") var apiKeys: [String] = []
    @Option(name: .customLong("api-key-file"), help: "File of accepted API keys, one per line, '#' comments; re-read on SIGHUP.") var apiKeyFile: String?
    @Option(name: .customLong("ssl-certfile"), help: "PEM certificate chain: serve HTTPS (re-read when it changes or on SIGHUP).") var certificateFile: String?
    @Option(name: .customLong("ssl-keyfile"), help: "PEM private key (RSA or EC) of the certificate.") var keyFile: String?
    @Option(name: .customLong("ssl-ca-certs"), help: "PEM CA certificates: clients must present a certificate they signed (mTLS).") var clientCAFile: String?
    @Option(name: .customLong("allowed-ips"), help: "Comma-separated IPs or CIDR ranges that may connect (default: all); others get 403.") var allowedIPs: String?
    @Option(name: .customLong("trusted-proxies"), help: "Comma-separated IPs or CIDR ranges whose X-Forwarded-For is believed.") var trustedProxies: String?
    @Option(name: .customLong("allowed-origins"), help: "Comma-separated browser origins allowed by CORS, or * (default: none).") var allowedOrigins: String?
    @Flag(name: .customLong("trust-request-chat-template"),
          help: "Accept 'chat_template' and 'chat_template_kwargs' in requests (templates are code the server runs).")
    var trustRequestChatTemplate = false
}

struct ServeMetricsOptions: ParsableArguments {
    @Option(name: .customLong("metrics-port"), help: "Serve /metrics on this port only, not on the API port (env PROMETHEUS_PORT).") var metricsPort: Int?
    @Option(name: .customLong("enable-metrics"), help: "false turns /metrics off (env ENABLE_METRICS, default true).") var enableMetrics: Bool?
    @Flag(name: .customLong("protect-metrics"), help: "Require the API key on /metrics on the API port too.") var protectMetrics = false
}

struct ServeLoggingOptions: ParsableArguments {
    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error (default info).") var logLevel: String?
    @Option(name: .customLong("log-format"), help: "text or json: one JSON object per line (default text).") var logFormat: String?
    @Option(name: .customLong("log-file"), help: "Also write the log to this file (rotated by size; reopened on SIGHUP).") var logFile: String?
    @Option(name: .customLong("log-max-size"), help: "Size at which the log file rotates, e.g. 100MiB (default 100MiB).") var logMaxSize: String?
    @Option(name: .customLong("log-backups"), help: "Rotated log files kept (default 5).") var logBackups: Int?
    @Flag(name: .customLong("log-requests"), help: "Log prompts and completions too (off by default: they may hold personal data).") var logRequests = false
}

/// What `tern serve` was asked for, resolved from every source.
struct ServeSettings {
    var server = ServerOptions()
    var modelPath: String
    /// A repository id as the model must already be downloaded.
    var noDownload = false
    var servedModelName: String?
    var chatTemplate: String?
    /// nil: detected from the chat template.
    var toolCallParser: ToolCallFormat?
    var maxModelLength: Int
    var maxNumSeqs: Int
    var maxQueued: Int
    var maxBatchedTokens: Int
    var kvCacheBytes: Int?
    var prefixCaching: Bool
    var graceSeconds: Int
    var logLevel: Logger.Level
    var logFormat: LogFormat
    var logFile: String?
    var logMaxBytes: Int
    var logBackups: Int
}
