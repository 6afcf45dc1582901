// `tern bench`: prefill and decode tokens/s, the weight bytes per token and the share of the
// machine's measured memory bandwidth; prefill is also put against the arithmetic peak.
import ArgumentParser
import CTernKernels
import Foundation
import TernFormats
import TernEngine
import TernModels
import TernOps

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "bench", abstract: "Measure prefill and decode speed.")

    @OptionGroup var model: ModelOption
    @OptionGroup var loading: LoadingOptions
    @Option(name: .customLong("prompt-tokens")) var promptTokens = 512
    @Option(name: .customLong("gen-tokens")) var genTokens = 128
    @Option(help: "Context tokens before decoding starts (llama-bench's -d).") var depth = 0
    @Option(name: .customLong("prefill-chunk"), help: "Prefill the prompt in passes of this many tokens, as the server's --max-num-batched-tokens splits it (default: one pass).")
    var prefillChunk: Int?
    @Option(help: "Timed repeats; medians are reported.") var repeats = 3
    @Option(help: "Also decode this many sequences at once after a shared prompt (continuous batching's gain).") var batch = 1
    @Option(name: .customLong("kernel-path"), help: "Force a kernel path: scalar, avx2, avxvnni, avx512, neon (default: best).") var kernelPath: String?
    @Flag(help: "Print one JSON line.") var json = false

    func validate() throws {
        if let prefillChunk, prefillChunk < 1 { throw ValidationError("--prefill-chunk must be at least 1") }
    }

    func run() throws {
        try reportingErrors {
            if let kernelPath, tern_set_kernel_path(kernelPath) != 0 {
                throw ValidationError("kernel path '\(kernelPath)' is not available here (available: \(String(cString: tern_available_kernel_paths())))")
            }
            let loadStart = Date()
            let url = try model.url
            let languageModel = try ModelRegistry.load(path: url, options: loading.options)
            let loadSeconds = Date().timeIntervalSince(loadStart)
            let residentAfterLoad = ProcessMemory.residentBytes, loadPeak = ProcessMemory.peakResidentBytes
            let threads = loading.threads ?? Compute.physicalCores
            // Quantized weights run on int8 dot products; the peak is measured for the kind in use.
            let quantized = languageModel.weightTypes.keys.contains { $0.hasPrefix("Q") }
            let r = Benchmark.run(model: languageModel, promptTokens: promptTokens, generatedTokens: genTokens, repeats: repeats, threads: threads,
                                  batch: batch, depth: depth, int8Peak: quantized, prefillChunk: prefillChunk)
            let kernels = String(cString: tern_kernels().pointee.name)
            let peakResident = max(loadPeak, r.peakResidentBytes)
            if json {
                let fields: [(String, String)] = [
                    ("prefill_tokens_per_s", String(format: "%.2f", r.prefillTokensPerSecond)),
                    ("decode_tokens_per_s", String(format: "%.2f", r.decodeTokensPerSecond)),
                    ("weight_bytes_per_token", String(r.weightBytesPerToken)),
                    ("achieved_gbps", String(format: "%.2f", r.achievedGBps)),
                    ("memory_read_gbps", String(format: "%.2f", r.memoryReadGBps)),
                    ("bandwidth_share", String(format: "%.3f", r.bandwidthShare)),
                    ("prefill_peak_share", String(format: "%.3f", r.prefillPeakShare)),
                    ("batch_peak_share", String(format: "%.3f", r.batchPeakShare)),
                    ("mac_peak_gmacs", String(format: "%.1f", r.macPeak / 1e9)),
                    ("load_seconds", String(format: "%.3f", loadSeconds)),
                    ("rss_after_load_bytes", String(residentAfterLoad)),
                    ("peak_rss_bytes", String(peakResident)),
                    ("kv_cache_dtype", "\"\(languageModel.kvCacheType)\""),
                    ("depth", String(depth)),
                    ("prefill_chunk", String(prefillChunk ?? promptTokens)),
                    ("batch", String(r.batch)),
                    ("batch_decode_tokens_per_s", String(format: "%.2f", r.batchDecodeTokensPerSecond)),
                    ("batch_baseline_tokens_per_s", String(format: "%.2f", r.batchBaselineTokensPerSecond)),
                    ("batch_speedup", String(format: "%.2f", r.batchSpeedup)),
                    ("threads", String(threads)),
                    ("quantization", "\"\(loading.quantization.rawValue)\""),
                    ("kernels", "\"\(kernels)\""),
                ]
                print("{" + fields.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}")
            } else {
                let types = languageModel.weightTypes.sorted { $0.key < $1.key }.map { "\($0.key) \(formatBytes($0.value))" }.joined(separator: ", ")
                print("""
                model \(url.lastPathComponent), \(formatCount(languageModel.config.parameterCount)) parameters, weights: \(types)
                kernels \(kernels), \(threads) threads, loaded in \(String(format: "%.2f", loadSeconds)) s, resident \(formatBytes(residentAfterLoad)) after load, peak \(formatBytes(peakResident))
                prefill \(promptTokens) tokens: \(String(format: "%.1f", r.prefillTokensPerSecond)) tokens/s (\(String(format: "%.1f", r.prefillPeakShare * 100))% of the \(quantized ? "int8" : "f32") peak measured: \(String(format: "%.0f", r.macPeak / 1e9)) GMAC/s)
                decode \(genTokens) tokens\(depth > 0 ? " after \(depth) tokens of context" : ""): \(String(format: "%.1f", r.decodeTokensPerSecond)) tokens/s (KV cache \(languageModel.kvCacheType))
                \(r.batch > 1 ? "decode \(r.batch) sequences at once after the prompt: \(String(format: "%.1f", r.batchDecodeTokensPerSecond)) tokens/s, \(String(format: "%.2f", r.batchSpeedup))x one sequence (\(String(format: "%.1f", r.batchBaselineTokensPerSecond))), \(String(format: "%.1f", r.batchPeakShare * 100))% of the peak\n" : "")weights per token \(formatBytes(r.weightBytesPerToken)), achieved \(String(format: "%.1f", r.achievedGBps)) GB/s of \(String(format: "%.1f", r.memoryReadGBps)) GB/s measured (\(String(format: "%.0f", r.bandwidthShare * 100))%)
                """)
            }
        }
    }
}

/// Quantization and threads, shared by the commands that load a model.
struct LoadingOptions: ParsableArguments {
    @Option(help: "Quantize weights at load: \(Quantization.names) (q2_k ... q6_k are llama-quantize's mixes).") var quantization: Quantization = .none
    @Option(help: "Compute threads (default: all physical cores).") var threads: Int?
    @Option(name: .customLong("kv-cache-dtype"), help: "KV cache element type: \(KVCacheSetting.names) (default f16; auto: the checkpoint's float type).")
    var kvCacheDType: KVCacheSetting?

    var options: LoadOptions { LoadOptions(quantization: quantization, threads: threads, kvCache: kvCacheDType ?? .standard) }

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
    }
}

extension Quantization: ExpressibleByArgument {
    public init?(argument: String) { self.init(name: argument) }
}

extension KVCacheSetting: ExpressibleByArgument {
    public init?(argument: String) { self.init(name: argument) }
}
