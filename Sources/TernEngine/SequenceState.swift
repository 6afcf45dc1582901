// One sequence's generation state: sampling, detokenizing and stop checking token by token.
// The single-sequence Generator and the batching Engine both drive it.
import TernOps
import TernTokenizer

public enum FinishReason: String, Sendable {
    case stop, length, abort
}

/// What accepting one sampled token produced.
public struct TokenStep: Sendable {
    public let token: SampledToken
    /// Text that became final with this token (possibly empty; held back near a stop string).
    public let text: String
    /// Set when this token ended the sequence.
    public let finishReason: FinishReason?
}

public struct SequenceState: Sendable {
    public let promptTokens: [Int]
    public let parameters: SamplingParameters
    public private(set) var outputTokens: [Int] = []
    public private(set) var text = ""
    private var sampler: Sampler
    private var detokenizer: StreamingDetokenizer
    private var stopChecker: StopChecker
    private let endTokens: Set<Int>
    private let maxLength: Int

    /// `maxLength` is the context limit: prompt plus output never exceed it.
    public init(prompt: [Int], parameters: SamplingParameters, tokenizer: Tokenizer, modelEndTokens: Set<Int>, maxLength: Int) {
        promptTokens = prompt
        self.parameters = parameters
        var ends = Set(parameters.stopTokenIds)
        if !parameters.ignoreEOS { ends.formUnion(modelEndTokens) }
        endTokens = ends
        sampler = Sampler(parameters: parameters, endTokenIds: ends)
        detokenizer = StreamingDetokenizer(tokenizer: tokenizer, skipSpecialTokens: !parameters.keepSpecialTokens)
        stopChecker = StopChecker(stops: parameters.stop)
        self.maxLength = maxLength
    }

    /// Tokens in the sequence so far (prompt and output).
    public var length: Int { promptTokens.count + outputTokens.count }

    /// Samples the next token from its logits (on `compute`'s threads if given) and applies every stop rule.
    public mutating func accept(logits: [Float], compute: Compute? = nil) -> TokenStep {
        let token = sampler.sample(logits, promptTokens: promptTokens, outputTokens: outputTokens, compute: compute)
        outputTokens.append(token.id)
        if endTokens.contains(token.id) {
            return finish(token, .stop, pending: "")
        }
        switch stopChecker.append(detokenizer.append(token.id)) {
        case .stopped(let before, _):
            text += before
            return TokenStep(token: token, text: before, finishReason: .stop)
        case .text(let ready):
            text += ready
            if outputTokens.count >= parameters.maxTokens || length >= maxLength {
                return finish(token, .length, pending: ready)
            }
            return TokenStep(token: token, text: ready, finishReason: nil)
        }
    }

    /// Flushes held-back text at the end; a stop string completed by the flush still stops.
    private mutating func finish(_ token: SampledToken, _ reason: FinishReason, pending: String) -> TokenStep {
        var out = pending
        switch stopChecker.append(detokenizer.finish()) {
        case .stopped(let before, _):
            out += before
            text += before
            return TokenStep(token: token, text: out, finishReason: .stop)
        case .text(let ready):
            let rest = ready + stopChecker.finish()
            out += rest
            text += rest
        }
        return TokenStep(token: token, text: out, finishReason: reason)
    }
}
