// Per-request sampling and stopping settings, named as the OpenAI API and vLLM name them.
import TernConstraints

public struct SamplingParameters: Sendable, Equatable {
    /// 0 means greedy decoding.
    public var temperature: Double = 1
    public var topP: Double = 1
    /// 0 (or negative) turns top-k off.
    public var topK: Int = 0
    public var minP: Double = 0
    /// Hugging Face's multiplicative penalty over prompt and output tokens; 1 is off.
    public var repetitionPenalty: Double = 1
    /// OpenAI's additive penalties over output tokens; 0 is off.
    public var presencePenalty: Double = 0
    public var frequencyPenalty: Double = 0
    public var logitBias: [Int: Double] = [:]
    /// Makes sampling reproducible; nil draws a fresh seed.
    public var seed: UInt64?
    public var maxTokens: Int = 16
    /// End-of-sequence tokens are suppressed until this many tokens were generated.
    public var minTokens: Int = 0
    public var stop: [String] = []
    public var stopTokenIds: [Int] = []
    public var ignoreEOS = false
    /// Special tokens stay in the text (a tool-call format's markers, such as Mistral's [TOOL_CALLS]).
    public var keepSpecialTokens = false
    /// Number of most likely alternatives to report with each token; nil reports none.
    public var logprobs: Int?
    /// Structured output: only tokens that keep the text inside this constraint are sampled, and
    /// the sequence stops when the constraint is complete.
    public var constraint: TokenConstraint?

    public init() {}

    public var isGreedy: Bool { temperature < 1e-5 }
}
