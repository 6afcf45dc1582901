// Plain data crossing the boundary between the server and the engine.

public struct EngineRequest: Sendable {
    public let id: String
    public let promptTokens: [Int]
    public let parameters: SamplingParameters

    public init(id: String, promptTokens: [Int], parameters: SamplingParameters) {
        self.id = id
        self.promptTokens = promptTokens
        self.parameters = parameters
    }
}

public struct TokenUsage: Sendable, Equatable {
    public let promptTokens: Int
    public let completionTokens: Int

    public init(promptTokens: Int, completionTokens: Int) {
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
    }
}

public enum EngineEvent: Sendable {
    /// One generated token and the text it made final.
    case token(TokenStep)
    /// The sequence ended; always the last event of a stream.
    case finished(FinishReason, TokenUsage)
    /// The request failed inside the engine; also a last event.
    case failed(String)
}

public struct EngineConfiguration: Sendable {
    public var maxModelLength: Int
    public var maxNumSeqs = 16
    public var maxNumQueuedRequests = 256
    public var blockSize = 16
    /// KV blocks in the pool; nil gives every running sequence room for a full context.
    public var blockCount: Int?
    /// Reuse the KV blocks of earlier requests that began with the same tokens.
    public var enablePrefixCaching = true
    /// Tokens one step may run: every running decode first, then prompt chunks up to the rest, so
    /// a long prompt is prefilled over several steps instead of stalling everyone's next token.
    public var maxNumBatchedTokens = 2048

    public init(maxModelLength: Int) {
        self.maxModelLength = maxModelLength
    }
}

public struct EngineStats: Sendable, Equatable {
    public var running = 0
    public var waiting = 0
    public var usedBlocks = 0
    public var totalBlocks = 0
    /// Prompt tokens looked up in the prefix cache, and those found there.
    public var prefixCacheQueries = 0
    public var prefixCacheHits = 0
    /// Sequences pushed back to the queue to free KV blocks (recomputed when they resume).
    public var preemptions = 0
    /// Time spent in steps, and in the model's forward passes within them; the difference is
    /// the scheduler's own cost (admission, block accounting, sampling, stop checks).
    public var stepSeconds = 0.0
    public var forwardSeconds = 0.0

    public var kvCacheUsage: Double { totalBlocks == 0 ? 0 : Double(usedBlocks) / Double(totalBlocks) }
}

/// Why a request was refused at submission.
public enum SubmitError: Error, Equatable, CustomStringConvertible {
    case invalid(String)
    /// Full now; `retryAfter` seconds is when room is expected, from how fast requests finish.
    case queueFull(limit: Int, retryAfter: Int)
    case stopped

    public var description: String {
        switch self {
        case .invalid(let message): return message
        case .queueFull(let limit, _): return "the server is full (\(limit) requests running or queued); retry later"
        case .stopped: return "the engine is not running"
        }
    }
}
