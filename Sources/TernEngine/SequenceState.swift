// One sequence's generation state: sampling, detokenizing and stop checking token by token.
// The single-sequence Generator and the batching Engine both drive it.
import TernConstraints
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
    /// Where the output stands in the request's constraint, if it has one.
    private var constraintState: TokenConstraint.State?

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
        constraintState = parameters.constraint?.start
    }

    /// Tokens in the sequence so far (prompt and output).
    public var length: Int { promptTokens.count + outputTokens.count }

    /// Samples the next token from its logits (on `compute`'s threads if given) and applies every stop rule.
    public mutating func accept(logits: [Float], compute: Compute? = nil) -> TokenStep {
        let token = sample(logits, compute: compute)
        outputTokens.append(token.id)
        if endTokens.contains(token.id) {
            return finish(token, .stop, pending: "")
        }
        var constraintComplete = false
        if let constraint = parameters.constraint, let state = constraintState {
            constraintState = constraint.advance(state, token: token.id)
            constraintComplete = constraintState.map(constraint.isComplete) ?? true
        }
        switch stopChecker.append(detokenizer.append(token.id)) {
        case .stopped(let before, _):
            text += before
            return TokenStep(token: token, text: before, finishReason: .stop)
        case .text(let ready):
            text += ready
            // A finished structure ends the sequence at once; nothing could follow it but the end.
            if constraintComplete { return finish(token, .stop, pending: ready) }
            if outputTokens.count >= parameters.maxTokens || length >= maxLength {
                return finish(token, .length, pending: ready)
            }
            return TokenStep(token: token, text: ready, finishReason: nil)
        }
    }

    /// Samples from the logits, restricted to the constraint's allowed tokens when there is one.
    private mutating func sample(_ logits: [Float], compute: Compute?) -> SampledToken {
        guard let constraint = parameters.constraint, let state = constraintState else {
            return sampler.sample(logits, promptTokens: promptTokens, outputTokens: outputTokens, compute: compute)
        }
        let mask = constraint.mask(at: state)
        if mask.isDeadEnd, let end = endTokens.min() {
            // The vocabulary cannot continue the structure (it lacks a byte it needs): end here.
            return SampledToken(id: end, logprob: nil, topLogprobs: [])
        }
        let scores = mask.masked(logits, endTokens: endTokens)
        let token = sampler.sample(scores, promptTokens: promptTokens, outputTokens: outputTokens, compute: compute)
        let allowed = mask.contains(token.id) || (mask.allowsEnd && endTokens.contains(token.id))
        // The vectorised draw gives refused tokens a probability around 1e-38, not zero; never take one.
        return allowed ? token : SampledToken(id: Sampler.argmax(scores), logprob: token.logprob, topLogprobs: token.topLogprobs)
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
