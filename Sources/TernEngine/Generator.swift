// Generates one sequence synchronously on the caller's thread: prefill the prompt, then one
// decode step per token. Used by `tern run`/`tern chat` and tests; the server uses Engine.
import TernModels
import TernOps

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
        try RequestValidation.check(prompt: prompt, parameters: parameters, vocabularySize: loaded.model.config.vocabSize,
                                    maxModelLength: maxModelLength)
        var state = SequenceState(prompt: prompt, parameters: parameters, tokenizer: loaded.tokenizer,
                                  modelEndTokens: loaded.endTokenIds, maxLength: maxModelLength)
        var result = GenerationResult(promptTokens: prompt)
        var blockTable: [Int32] = []
        defer { pool.release(&blockTable) }
        var chunk = SequenceChunk(tokens: prompt, startPosition: 0, blockTable: [])
        while true {
            guard pool.reserve(&blockTable, forTokens: chunk.startPosition + chunk.tokens.count) else {
                throw EngineError("KV cache is full")
            }
            chunk.blockTable = blockTable
            let step = state.accept(logits: loaded.model.forward(ForwardBatch([chunk]), cache: cache).rows[0], compute: loaded.model.compute)
            result.sampled.append(step.token)
            if !step.text.isEmpty { onText(step.text) }
            if let reason = step.finishReason {
                result.finishReason = reason
                break
            }
            chunk = SequenceChunk(tokens: [step.token.id], startPosition: state.length - 1, blockTable: blockTable, promptLength: prompt.count)
        }
        result.tokens = state.outputTokens
        result.text = state.text
        return result
    }
}
