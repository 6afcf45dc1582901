// `tern bench`: prefill and decode speed of a model, the weight bytes each decoded token reads,
// and the machine's own memory bandwidth, so the share of the limit is visible.
import Foundation
import TernModels
import TernOps

public struct BenchmarkResult: Sendable {
    public var prefillTokensPerSecond: Double
    public var decodeTokensPerSecond: Double
    public var weightBytesPerToken: Int
    public var memoryReadGBps: Double
    public var promptTokens: Int
    public var generatedTokens: Int
    /// Context tokens before the first decoded one.
    public var depth: Int
    public var threads: Int
    /// The largest resident memory while prefilling and decoding (the bandwidth probe left out).
    public var peakResidentBytes: Int
    /// Sequences decoding together in the batched measurement (1: none made).
    public var batch = 1
    /// Aggregate tokens/s of `batch` sequences decoding together after a shared prompt, of one
    /// sequence decoding the same way, and the median of their ratios, each repeat timing both
    /// back to back so that the machine's drift cancels.
    public var batchDecodeTokensPerSecond = 0.0
    public var batchBaselineTokensPerSecond = 0.0
    public var batchSpeedup = 0.0
    /// The machine's multiply-add peak per second with the same threads, measured in the same run:
    /// int8 dot products for quantized weights, f32 FMA otherwise (0 where neither vector path exists).
    public var macPeak = 0.0
    /// Weight multiply-adds per token: a prompt token's (every layer; the LM head runs for the last
    /// token only) and a decoded token's (the LM head too). Attention's are left out.
    public var prefillMACsPerToken = 0.0
    public var decodeMACsPerToken = 0.0

    /// Weight bytes streamed per second while decoding.
    public var achievedGBps: Double { Double(weightBytesPerToken) * decodeTokensPerSecond / 1e9 }
    public var bandwidthShare: Double { memoryReadGBps > 0 ? achievedGBps / memoryReadGBps : 0 }
    /// Achieved multiply-adds per second as a share of the measured peak: prompt processing, and
    /// the batched decode (aggregate over its sequences).
    public var prefillPeakShare: Double { macPeak > 0 ? prefillTokensPerSecond * prefillMACsPerToken / macPeak : 0 }
    public var batchPeakShare: Double { macPeak > 0 ? batchDecodeTokensPerSecond * decodeMACsPerToken / macPeak : 0 }
}

public enum Benchmark {
    static let blockSize = 16

    /// Times `repeats` prefills of `promptTokens` random tokens (in passes of `prefillChunk` tokens
    /// each, as the server's token budget splits long prompts; nil: one pass) and decodes of
    /// `generatedTokens` tokens after `depth` tokens of context (llama-bench's -d), reporting
    /// medians; with `batch` > 1 also `batch` sequences decoding at once.
    public static func run(model: LanguageModel, promptTokens: Int, generatedTokens: Int, repeats: Int, threads: Int,
                           batch: Int = 1, depth: Int = 0, int8Peak: Bool = true, prefillChunk: Int? = nil) -> BenchmarkResult {
        let blockSize = Self.blockSize
        let context = max(promptTokens, depth + generatedTokens + 1)
        let promptBlocks = (context + blockSize - 1) / blockSize, ownBlocks = (generatedTokens + blockSize) / blockSize
        let cache = model.makeKVCache(blockSize: blockSize, blockCount: promptBlocks + (batch > 1 ? batch * ownBlocks : 0))
        let table = (0..<Int32(promptBlocks)).map { $0 }
        var random = RandomSource(seed: 1)
        let vocabulary = model.config.vocabSize
        let contextTokens = (0..<max(promptTokens, depth)).map { _ in Int(random.next() % UInt64(vocabulary)) }
        let prompt = Array(contextTokens.prefix(promptTokens))

        // The memory probe runs before and after the timings, and the better figure is kept: other
        // tenants of a shared machine only ever lower it.
        let compute = Compute(threads: threads)
        let bandwidthBefore = compute.measureReadBandwidth()
        let peakBefore = compute.measureMACPeak(int8: int8Peak)
        // The probe's buffer is gone again: the peak from here on is the model's own.
        ProcessMemory.resetPeak()
        var prefillRates: [Double] = [], decodeRates: [Double] = []
        // One untimed pass warms caches, page tables and the thread pool.
        _ = model.forward(ForwardBatch([SequenceChunk(tokens: Array(prompt.prefix(8)), startPosition: 0, blockTable: table)]), cache: cache)
        // The context decoding starts from, where the timed prompt does not cover it (untimed, as llama-bench's -d).
        if depth > promptTokens {
            _ = model.forward(ForwardBatch([SequenceChunk(tokens: contextTokens, startPosition: 0, blockTable: table)]), cache: cache)
        }
        for _ in 0..<repeats {
            let start = Date()
            let chunk = max(1, prefillChunk ?? promptTokens)
            for from in stride(from: 0, to: promptTokens, by: chunk) {
                let tokens = Array(prompt[from..<min(from + chunk, promptTokens)])
                _ = model.forward(ForwardBatch([SequenceChunk(tokens: tokens, startPosition: from, blockTable: table)]), cache: cache)
            }
            prefillRates.append(Double(promptTokens) / Date().timeIntervalSince(start))

            var token = prompt[0]
            let decodeStart = Date()
            for position in depth..<(depth + generatedTokens) {
                let logits = model.forward(ForwardBatch([SequenceChunk(tokens: [token], startPosition: position, blockTable: table)]), cache: cache)
                token = Sampler.argmax(logits.rows[0])
            }
            decodeRates.append(Double(generatedTokens) / Date().timeIntervalSince(decodeStart))
        }
        let peakResident = ProcessMemory.peakResidentBytes
        let bandwidth = max(bandwidthBefore, compute.measureReadBandwidth())
        var result = BenchmarkResult(prefillTokensPerSecond: median(prefillRates), decodeTokensPerSecond: median(decodeRates),
                                     weightBytesPerToken: model.weightBytes, memoryReadGBps: bandwidth,
                                     promptTokens: promptTokens, generatedTokens: generatedTokens, depth: depth, threads: threads,
                                     peakResidentBytes: peakResident)
        result.macPeak = max(peakBefore, compute.measureMACPeak(int8: int8Peak))
        let config = model.config, head = Double(config.vocabSize * config.hiddenSize)
        result.prefillMACsPerToken = Double(config.parameterCount) - head * (config.tieWordEmbeddings ? 1 : 2)
        result.decodeMACsPerToken = result.prefillMACsPerToken + head
        if batch > 1 {
            _ = model.forward(ForwardBatch([SequenceChunk(tokens: prompt, startPosition: 0, blockTable: table)]), cache: cache)
            let shared = Array(table.prefix(promptTokens / blockSize))
            let tables = (0..<batch).map { s in shared + (0..<Int32(ownBlocks)).map { Int32(promptBlocks) + Int32(s * ownBlocks) + $0 } }
            let pairs = (0..<repeats).map { _ in
                (decodeRate(model, cache: cache, tables: Array(tables.prefix(1)), from: shared.count * blockSize, steps: generatedTokens),
                 decodeRate(model, cache: cache, tables: tables, from: shared.count * blockSize, steps: generatedTokens))
            }
            result.batch = batch
            result.batchBaselineTokensPerSecond = median(pairs.map(\.0))
            result.batchDecodeTokensPerSecond = median(pairs.map(\.1))
            result.batchSpeedup = median(pairs.map { $0.1 / $0.0 })
        }
        return result
    }

    /// Aggregate tokens/s of every table's sequence decoding `steps` tokens together after a
    /// prompt prefix of `from` tokens they share.
    static func decodeRate(_ model: LanguageModel, cache: PagedKVCache, tables: [[Int32]], from: Int, steps: Int) -> Double {
        var tokens = (0..<tables.count).map { $0 + 1 }
        let start = Date()
        for step in 0..<steps {
            let chunks = zip(tokens, tables).map { SequenceChunk(tokens: [$0], startPosition: from + step, blockTable: $1) }
            tokens = model.forward(ForwardBatch(chunks), cache: cache).rows.map(Sampler.argmax)
        }
        return Double(steps * tables.count) / Date().timeIntervalSince(start)
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.isEmpty ? 0 : sorted[sorted.count / 2]
    }
}
