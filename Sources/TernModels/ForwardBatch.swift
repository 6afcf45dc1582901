// Plain data handed to a model's forward pass: the flattened tokens of many sequences.

public struct SequenceChunk: Sendable {
    public enum LogitRows: Sendable { case none, lastToken, allTokens }

    /// Tokens to run now (a prefill chunk, or the one token of a decode step).
    public var tokens: [Int]
    /// Position of tokens[0] in its sequence; earlier positions are already in the KV cache.
    public var startPosition: Int
    /// KV blocks covering positions 0 ..< startPosition + tokens.count.
    public var blockTable: [Int32]
    public var logitRows: LogitRows
    /// Length of the prompt the sequence began with. Qwen's dynamic NTK picks the rotary base of a
    /// whole sequence from it, so decode steps and later prefill chunks must carry it.
    public var promptLength: Int

    public init(tokens: [Int], startPosition: Int, blockTable: [Int32], logitRows: LogitRows = .lastToken, promptLength: Int? = nil) {
        self.tokens = tokens
        self.startPosition = startPosition
        self.blockTable = blockTable
        self.logitRows = logitRows
        self.promptLength = promptLength ?? startPosition + tokens.count
    }
}

public struct ForwardBatch: Sendable {
    public var sequences: [SequenceChunk]

    public init(_ sequences: [SequenceChunk]) {
        self.sequences = sequences
    }

    public var tokenCount: Int { sequences.reduce(0) { $0 + $1.tokens.count } }
}

/// Logit rows in batch order: each sequence's requested rows, vocabSize floats each.
public struct BatchLogits: Sendable {
    public let vocabSize: Int
    public let rows: [[Float]]
    /// rows[rowRanges[i]] belong to sequence i of the batch.
    public let rowRanges: [Range<Int>]

    public func rows(ofSequence index: Int) -> ArraySlice<[Float]> { rows[rowRanges[index]] }
}
