// Prometheus metrics under vLLM's names (so existing dashboards and KEDA triggers work), kept in
// a swift-prometheus registry. Gauges are read from the engine when /metrics is scraped.
import Foundation
import Prometheus
import TernEngine

public final class ServerMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    private let labels: [(String, String)]
    private let running, waiting, kvUsage, kvUsageLegacy: Gauge
    private let promptTokens, generationTokens: Counter
    private let prefixQueries, prefixHits: Counter
    private let preemptions, stepSeconds, forwardSeconds: Gauge
    /// The engine's prefix-cache totals already added to the counters above.
    private let reported = ReportedTotals()
    private let timeToFirstToken, timePerOutputToken, interTokenLatency, endToEnd: ValueHistogram
    private let requestPromptTokens, requestGenerationTokens: ValueHistogram
    private let modelName: String

    static let latencyBuckets: [Double] = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80]
    static let tokenBuckets: [Double] = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000]

    public init(modelName: String) {
        self.modelName = modelName
        labels = [("model_name", modelName)]
        running = registry.makeGauge(descriptor: .init(metricName: "vllm:num_requests_running", helpText: "Number of requests in model execution batches."), labels: labels)
        waiting = registry.makeGauge(descriptor: .init(metricName: "vllm:num_requests_waiting", helpText: "Number of requests waiting to be processed."), labels: labels)
        kvUsage = registry.makeGauge(descriptor: .init(metricName: "vllm:kv_cache_usage_perc", helpText: "KV-cache usage. 1 means 100 percent usage."), labels: labels)
        kvUsageLegacy = registry.makeGauge(descriptor: .init(metricName: "vllm:gpu_cache_usage_perc", helpText: "KV-cache usage (older name). 1 means 100 percent usage."), labels: labels)
        promptTokens = registry.makeCounter(descriptor: .init(metricName: "vllm:prompt_tokens_total", helpText: "Number of prefill tokens processed."), labels: labels)
        prefixQueries = registry.makeCounter(descriptor: .init(metricName: "vllm:prefix_cache_queries_total", helpText: "Prompt tokens looked up in the prefix cache."), labels: labels)
        prefixHits = registry.makeCounter(descriptor: .init(metricName: "vllm:prefix_cache_hits_total", helpText: "Prompt tokens found in the prefix cache."), labels: labels)
        preemptions = registry.makeGauge(descriptor: .init(metricName: "tern_preemptions", helpText: "Sequences preempted to free KV blocks since start."), labels: labels)
        stepSeconds = registry.makeGauge(descriptor: .init(metricName: "tern_engine_step_seconds", helpText: "Seconds the engine spent in steps since start."), labels: labels)
        forwardSeconds = registry.makeGauge(descriptor: .init(metricName: "tern_engine_forward_seconds", helpText: "Seconds of those in forward passes."), labels: labels)
        generationTokens = registry.makeCounter(descriptor: .init(metricName: "vllm:generation_tokens_total", helpText: "Number of generation tokens processed."), labels: labels)
        timeToFirstToken = registry.makeValueHistogram(descriptor: .init(metricName: "vllm:time_to_first_token_seconds", helpText: "Histogram of time to first token in seconds."), labels: labels, buckets: Self.latencyBuckets)
        timePerOutputToken = registry.makeValueHistogram(descriptor: .init(metricName: "vllm:time_per_output_token_seconds", helpText: "Histogram of time per output token in seconds."), labels: labels, buckets: Self.latencyBuckets)
        interTokenLatency = registry.makeValueHistogram(descriptor: .init(metricName: "vllm:inter_token_latency_seconds", helpText: "Histogram of inter-token latency in seconds."), labels: labels, buckets: Self.latencyBuckets)
        endToEnd = registry.makeValueHistogram(descriptor: .init(metricName: "vllm:e2e_request_latency_seconds", helpText: "Histogram of end to end request latency in seconds."), labels: labels, buckets: Self.latencyBuckets)
        requestPromptTokens = registry.makeValueHistogram(descriptor: .init(metricName: "vllm:request_prompt_tokens", helpText: "Number of prefill tokens processed per request."), labels: labels, buckets: Self.tokenBuckets)
        requestGenerationTokens = registry.makeValueHistogram(descriptor: .init(metricName: "vllm:request_generation_tokens", helpText: "Number of generation tokens processed per request."), labels: labels, buckets: Self.tokenBuckets)
        for reason in [FinishReason.stop, .length, .abort] { _ = success(reason) }
    }

    private func success(_ reason: FinishReason) -> Counter {
        registry.makeCounter(descriptor: .init(metricName: "vllm:request_success_total", helpText: "Count of successfully processed requests."),
                             labels: labels + [("finished_reason", reason.rawValue)])
    }

    /// The Prometheus text exposition, with the engine's gauges read now.
    func exposition(_ stats: EngineStats) -> String {
        running.set(Double(stats.running))
        waiting.set(Double(stats.waiting))
        kvUsage.set(stats.kvCacheUsage)
        kvUsageLegacy.set(stats.kvCacheUsage)
        preemptions.set(Double(stats.preemptions))
        stepSeconds.set(stats.stepSeconds)
        forwardSeconds.set(stats.forwardSeconds)
        let (queries, hits) = reported.advance(to: (stats.prefixCacheQueries, stats.prefixCacheHits))
        prefixQueries.increment(by: Int64(queries))
        prefixHits.increment(by: Int64(hits))
        return registry.emitToString()
    }

    /// Records one finished sequence from the times its events arrived.
    func record(_ timing: SequenceTiming, reason: FinishReason, usage: TokenUsage) {
        promptTokens.increment(by: Int64(usage.promptTokens))
        generationTokens.increment(by: Int64(usage.completionTokens))
        requestPromptTokens.record(Double(usage.promptTokens))
        requestGenerationTokens.record(Double(usage.completionTokens))
        success(reason).increment()
        let end = Date()
        endToEnd.record(end.timeIntervalSince(timing.start))
        if let first = timing.firstToken {
            timeToFirstToken.record(first.timeIntervalSince(timing.start))
            if usage.completionTokens > 1, let last = timing.lastToken {
                timePerOutputToken.record(last.timeIntervalSince(first) / Double(usage.completionTokens - 1))
            }
        }
        for gap in timing.gaps { interTokenLatency.record(gap) }
    }
}

/// Totals reported so far; `advance` returns how much each grew since the last call.
final class ReportedTotals: @unchecked Sendable {
    private let lock = NSLock()
    private var values = (0, 0)

    func advance(to now: (Int, Int)) -> (Int, Int) {
        lock.lock()
        defer { lock.unlock() }
        let delta = (max(0, now.0 - values.0), max(0, now.1 - values.1))
        values = now
        return delta
    }
}

/// When a sequence's events arrived, for the latency histograms.
struct SequenceTiming {
    let start: Date
    var firstToken: Date?
    var lastToken: Date?
    var gaps: [Double] = []

    init(start: Date) {
        self.start = start
    }

    var tokenCount: Int { firstToken == nil ? 0 : gaps.count + 1 }

    mutating func tokenArrived() {
        let now = Date()
        if let lastToken { gaps.append(now.timeIntervalSince(lastToken)) } else { firstToken = now }
        lastToken = now
    }
}
