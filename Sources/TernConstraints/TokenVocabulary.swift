// A model's tokens as the bytes they add to the text, sorted so that tokens sharing a prefix sit
// together: a token mask is then one pass over the sorted list that walks each shared prefix
// through the automaton once and skips every token under a prefix the constraint refuses.

public final class TokenVocabulary: Sendable {
    /// Width of a mask: the model's vocabulary size (ids past the tokenizer's are never allowed).
    public let size: Int
    let bytes: [[UInt8]]
    /// Ids of the tokens with text, in byte order.
    let order: [Int32]
    /// How many leading bytes each token in `order` shares with the one before it.
    let sharedPrefix: [Int32]
    /// The tokens' bytes in `order`, back to back (`sortedStarts[i]..<sortedStarts[i + 1]`): the
    /// mask pass reads them without touching an array per token.
    let sortedBytes: [UInt8]
    let sortedStarts: [Int32]

    /// `tokenBytes[id]` is nil for tokens that never appear in constrained text (control tokens).
    public init(tokenBytes: [[UInt8]?], size: Int) {
        self.size = size
        let bytes = tokenBytes.map { $0 ?? [] }
        self.bytes = bytes
        let order = bytes.indices.filter { !bytes[$0].isEmpty }.sorted { bytes[$0].lexicographicallyPrecedes(bytes[$1]) }
        self.order = order.map(Int32.init)
        var shared: [Int32] = []
        shared.reserveCapacity(order.count)
        var previous: [UInt8] = []
        for id in order {
            let current = bytes[id]
            var n = 0
            while n < current.count, n < previous.count, current[n] == previous[n] { n += 1 }
            shared.append(Int32(n))
            previous = current
        }
        sharedPrefix = shared
        sortedBytes = order.flatMap { bytes[$0] }
        var starts: [Int32] = [0]
        for id in order { starts.append(starts.last! + Int32(bytes[id].count)) }
        sortedStarts = starts
    }

    func bytes(of token: Int) -> [UInt8] { token >= 0 && token < bytes.count ? bytes[token] : [] }
}

/// Which tokens may come next, and whether the sequence may end here.
public struct TokenMask: Sendable {
    let words: [UInt64]
    public let allowsEnd: Bool
    /// The allowed ids when they are few (structural positions): masking then writes only them.
    private let sparse: [Int32]?
    /// Counted once here: every sampling step asks whether the mask is a dead end.
    public let allowedCount: Int

    init(words: [UInt64], allowsEnd: Bool) {
        self.words = words
        self.allowsEnd = allowsEnd
        let count = words.reduce(0) { $0 + $1.nonzeroBitCount }
        allowedCount = count
        if count <= words.count * 4 { // at most 1/16 of the vocabulary
            var ids: [Int32] = []
            ids.reserveCapacity(count)
            for (w, word) in words.enumerated() {
                var rest = word
                while rest != 0 {
                    ids.append(Int32(w * 64 + rest.trailingZeroBitCount))
                    rest &= rest - 1
                }
            }
            sparse = ids
        } else {
            sparse = nil
        }
    }

    public func contains(_ token: Int) -> Bool {
        token >= 0 && token / 64 < words.count && words[token / 64] & (1 << UInt64(token % 64)) != 0
    }

    /// Neither a token nor the end is allowed: the constraint cannot be continued with this vocabulary.
    public var isDeadEnd: Bool { !allowsEnd && allowedCount == 0 }

    /// The scores with refused tokens at -infinity; `endTokens` keep theirs only where the text may end.
    public func masked(_ scores: [Float], endTokens: Set<Int>) -> [Float] {
        var out: [Float]
        if let sparse {
            out = [Float](repeating: -.infinity, count: scores.count)
            for id in sparse where Int(id) < scores.count { out[Int(id)] = scores[Int(id)] }
        } else {
            out = scores
            out.withUnsafeMutableBufferPointer { row in
                for (w, word) in words.enumerated() where word != ~0 {
                    let base = w * 64
                    guard base < row.count else { break }
                    for bit in 0..<min(64, row.count - base) where word & (1 << UInt64(bit)) == 0 {
                        row[base + bit] = -.infinity
                    }
                }
                for index in (words.count * 64)..<max(row.count, words.count * 64) { row[index] = -.infinity }
            }
        }
        for token in endTokens where token >= 0 && token < scores.count {
            out[token] = allowsEnd ? scores[token] : -.infinity
        }
        return out
    }
}
