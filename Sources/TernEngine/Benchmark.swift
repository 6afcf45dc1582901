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
    public var threads: Int

    /// Weight bytes streamed per second while decoding.
    public var achievedGBps: Double { Double(weightBytesPerToken) * decodeTokensPerSecond / 1e9 }
    public var bandwidthShare: Double { memoryReadGBps > 0 ? achievedGBps / memoryReadGBps : 0 }
}

public enum Benchmark {
    /// Times `repeats` prefills of `promptTokens` random tokens and decodes of `generatedTokens`
    /// tokens, reporting medians.
    public static func run(model: LanguageModel, promptTokens: Int, generatedTokens: Int, repeats: Int, threads: Int) -> BenchmarkResult {
        let blockSize = 16
        let context = max(promptTokens, generatedTokens + 1)
        let cache = model.makeKVCache(blockSize: blockSize, blockCount: (context + blockSize - 1) / blockSize)
        let table = (0..<Int32((context + blockSize - 1) / blockSize)).map { $0 }
        var random = RandomSource(seed: 1)
        let vocabulary = model.config.vocabSize
        let prompt = (0..<promptTokens).map { _ in Int(random.next() % UInt64(vocabulary)) }

        var prefillRates: [Double] = [], decodeRates: [Double] = []
        // One untimed pass warms caches, page tables and the thread pool.
        _ = model.forward(ForwardBatch([SequenceChunk(tokens: Array(prompt.prefix(8)), startPosition: 0, blockTable: table)]), cache: cache)
        for _ in 0..<repeats {
            let start = Date()
            _ = model.forward(ForwardBatch([SequenceChunk(tokens: prompt, startPosition: 0, blockTable: table)]), cache: cache)
            prefillRates.append(Double(promptTokens) / Date().timeIntervalSince(start))

            var token = prompt[0]
            let decodeStart = Date()
            for position in 0..<generatedTokens {
                let logits = model.forward(ForwardBatch([SequenceChunk(tokens: [token], startPosition: position, blockTable: table)]), cache: cache)
                token = Sampler.argmax(logits.rows[0])
            }
            decodeRates.append(Double(generatedTokens) / Date().timeIntervalSince(decodeStart))
        }
        let bandwidth = Compute(threads: threads).measureReadBandwidth()
        return BenchmarkResult(prefillTokensPerSecond: median(prefillRates), decodeTokensPerSecond: median(decodeRates),
                               weightBytesPerToken: model.weightBytes, memoryReadGBps: bandwidth,
                               promptTokens: promptTokens, generatedTokens: generatedTokens, threads: threads)
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.isEmpty ? 0 : sorted[sorted.count / 2]
    }
}
