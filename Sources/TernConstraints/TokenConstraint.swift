// A constraint compiled against a vocabulary: its grammar's automaton plus a token mask per
// automaton state, computed the first time generation reaches the state and kept. One instance
// serves every request with the same constraint (the engine thread and single-sequence generators
// may use it at once, so access is locked; the lock is uncontended in the engine).
import Foundation

public final class TokenConstraint: @unchecked Sendable, Equatable {
    public typealias State = Int32
    /// What the constraint was made from, for logs and the cache.
    public let key: String
    private let automaton: GrammarAutomaton
    private let vocabulary: TokenVocabulary
    private let lock = NSLock()
    private var masks: [State: TokenMask] = [:]
    public let start: State

    public init(grammar: Grammar, vocabulary: TokenVocabulary, key: String) throws {
        automaton = GrammarAutomaton(try CompiledGrammar(grammar))
        self.vocabulary = vocabulary
        self.key = key
        start = automaton.start
    }

    /// Masks kept per constraint (a mask is vocabulary/8 bytes: 16 KB for a 128k vocabulary).
    static let maxCachedMasks = 4096

    public static func == (a: TokenConstraint, b: TokenConstraint) -> Bool { a === b }

    /// The tokens that keep the text inside the constraint from `state`.
    public func mask(at state: State) -> TokenMask {
        lock.lock()
        defer { lock.unlock() }
        if let known = masks[state] { return known }
        let mask = computeMask(state)
        // Free-form JSON nests without end and each depth is a new state: bound what is kept.
        if masks.count >= Self.maxCachedMasks { masks.removeAll(keepingCapacity: true) }
        masks[state] = mask
        return mask
    }

    /// The state after `token`'s bytes, or nil if the constraint refuses them (or the token has none).
    public func advance(_ state: State, token: Int) -> State? {
        lock.lock()
        defer { lock.unlock() }
        let bytes = vocabulary.bytes(of: token)
        guard !bytes.isEmpty else { return nil }
        var current = state
        for byte in bytes {
            current = automaton.next(current, byte)
            if current == GrammarAutomaton.dead { return nil }
        }
        return current
    }

    /// The text so far is a whole match and nothing may follow it.
    public func isComplete(_ state: State) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        return automaton.isComplete(state)
    }

    /// Whether `text` matches the constraint as a whole (for tests and checks outside generation).
    public func matches(_ text: String) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        var current = start
        for byte in text.utf8 {
            current = automaton.next(current, byte)
            if current == GrammarAutomaton.dead { return false }
        }
        return automaton.isAccepting(current)
    }

    /// Walks the byte-sorted vocabulary once: each prefix's automaton state is kept for the tokens
    /// after it that share it, and a refused prefix skips all of them.
    private func computeMask(_ state: State) -> TokenMask {
        var words = [UInt64](repeating: 0, count: (vocabulary.size + 63) / 64)
        var states: [State] = [state]
        var known = 0 // states[0...known] belong to the current token's prefix
        var i = 0
        let order = vocabulary.order, shared = vocabulary.sharedPrefix, starts = vocabulary.sortedStarts
        vocabulary.sortedBytes.withUnsafeBufferPointer { bytes in
            while i < order.count {
                let token = Int(order[i])
                let first = Int(starts[i]), length = Int(starts[i + 1]) - first
                var depth = min(Int(shared[i]), known)
                var refused = false
                while depth < length {
                    let next = automaton.next(states[depth], bytes[first + depth])
                    if next == GrammarAutomaton.dead { refused = true; break }
                    if states.count <= depth + 1 { states.append(next) } else { states[depth + 1] = next }
                    depth += 1
                }
                known = depth
                i += 1
                if refused {
                    // Every following token that starts with the refused prefix is refused too.
                    while i < order.count, Int(shared[i]) > depth { i += 1 }
                    continue
                }
                if token < vocabulary.size { words[token / 64] |= 1 << UInt64(token % 64) }
            }
        }
        return TokenMask(words: words, allowsEnd: automaton.isAccepting(state))
    }
}
