// Compiled constraints by what they were made from, so a schema sent again (every request of an
// application sends the same one) reuses its automaton and the token masks already computed.
import Foundation

public final class ConstraintCache: @unchecked Sendable {
    private let capacity: Int
    private let lock = NSLock()
    private var entries: [String: TokenConstraint] = [:]
    /// Keys from least to most recently used.
    private var recency: [String] = []

    public init(capacity: Int = 64) { self.capacity = capacity }

    /// The constraint for `key`, compiling `grammar()` on a miss (outside the lock: a large schema
    /// takes a while and other requests should not wait for it).
    public func constraint(key: String, vocabulary: TokenVocabulary, grammar: () throws -> Grammar) throws -> TokenConstraint {
        lock.lock()
        if let hit = entries[key] {
            recency.removeAll { $0 == key }
            recency.append(key)
            lock.unlock()
            return hit
        }
        lock.unlock()
        let compiled = try TokenConstraint(grammar: try grammar(), vocabulary: vocabulary, key: key)
        lock.lock()
        defer { lock.unlock() }
        if let raced = entries[key] { return raced }
        entries[key] = compiled
        recency.append(key)
        while recency.count > capacity { entries[recency.removeFirst()] = nil }
        return compiled
    }
}
