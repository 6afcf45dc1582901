// Generates one sequence: prefill the prompt, then sample, detokenize and check stops token
// by token. The batched scheduler builds on the same pieces.
import TernModels
import TernOps
import TernTokenizer

public enum FinishReason: String, Sendable {
    case stop, length
}

public struct GenerationResult: Sendable {
    public var promptTokens: [Int]
    public var tokens: [Int] = []
    public var text = ""
    public var finishReason: FinishReason = .length
    public var sampled: [SampledToken] = []
}

public final class Generator {
    public let loaded: LoadedModel
    public let maxModelLength: Int
    private let pool: BlockPool
    private let cache: PagedKVCache

    public init(loaded: LoadedModel, maxModelLength: Int, blockSize: Int = 16) {
        self.loaded = loaded
        self.maxModelLength = maxModelLength
        let blocks = (maxModelLength + blockSize - 1) / blockSize
        pool = BlockPool(blockSize: blockSize, blockCount: blocks)
        cache = loaded.model.makeKVCache(blockSize: blockSize, blockCount: blocks)
    }

    /// Generates from `prompt`; `onText` receives each piece of text as it becomes final.
    public func generate(prompt: [Int], parameters: SamplingParameters, onText: (String) -> Void = { _ in }) throws -> GenerationResult {
        try validate(prompt: prompt, parameters: parameters)
        var endTokens = Set(parameters.stopTokenIds)
        if !parameters.ignoreEOS { endTokens.formUnion(loaded.endTokenIds) }
        var sampler = Sampler(parameters: parameters, endTokenIds: endTokens)
        var detokenizer = StreamingDetokenizer(tokenizer: loaded.tokenizer)
        var stopChecker = StopChecker(stops: parameters.stop)
        var result = GenerationResult(promptTokens: prompt)
        var blockTable: [Int32] = []
        defer { pool.release(&blockTable) }

        /// Passes new text through the stop checker; true when a stop string ended the sequence.
        func feed(_ text: String) -> Bool {
            let outcome = stopChecker.append(text)
            let ready: String
            switch outcome {
            case .text(let text): ready = text
            case .stopped(let before, _): ready = before
            }
            if !ready.isEmpty {
                result.text += ready
                onText(ready)
            }
            if case .stopped = outcome { result.finishReason = .stop; return true }
            return false
        }
        var chunk = SequenceChunk(tokens: prompt, startPosition: 0, blockTable: [])
        while true {
            guard pool.reserve(&blockTable, forTokens: chunk.startPosition + chunk.tokens.count) else {
                throw EngineError("KV cache is full")
            }
            chunk.blockTable = blockTable
            let logits = loaded.model.forward(ForwardBatch([chunk]), cache: cache).rows[0]
            let token = sampler.sample(logits, promptTokens: prompt, outputTokens: result.tokens)
            result.tokens.append(token.id)
            result.sampled.append(token)
            if endTokens.contains(token.id) {
                result.finishReason = .stop
                break
            }
            if feed(detokenizer.append(token.id)) { return result }
            let length = prompt.count + result.tokens.count
            if result.tokens.count >= parameters.maxTokens || length >= maxModelLength { break }
            chunk = SequenceChunk(tokens: [token.id], startPosition: length - 1, blockTable: blockTable)
        }
        if !feed(detokenizer.finish()), case let rest = stopChecker.finish(), !rest.isEmpty {
            result.text += rest
            onText(rest)
        }
        return result
    }

    private func validate(prompt: [Int], parameters: SamplingParameters) throws {
        guard !prompt.isEmpty else { throw EngineError("the prompt is empty") }
        let vocabulary = loaded.model.config.vocabSize
        if let bad = prompt.first(where: { $0 < 0 || $0 >= vocabulary }) {
            throw EngineError("token id \(bad) is outside the vocabulary (0..<\(vocabulary))")
        }
        guard prompt.count < maxModelLength else {
            throw EngineError("the prompt has \(prompt.count) tokens; the maximum context length is \(maxModelLength)")
        }
        guard parameters.maxTokens > 0 else { throw EngineError("max_tokens must be at least 1") }
    }
}
