// Compiles a request's output constraint against the served model's vocabulary. The vocabulary
// as bytes is built on first use (control tokens left out: they never appear inside structured
// text; the end tokens are allowed where the structure may end); compiled constraints are cached.
import Foundation
import TernConstraints
import TernTokenizer

public final class StructuredOutput: @unchecked Sendable {
    private let tokenizer: Tokenizer
    private let vocabularySize: Int
    private let lock = NSLock()
    private var builtVocabulary: TokenVocabulary?
    private let cache = ConstraintCache()

    init(tokenizer: Tokenizer, vocabularySize: Int) {
        self.tokenizer = tokenizer
        self.vocabularySize = vocabularySize
    }

    public var vocabulary: TokenVocabulary {
        lock.lock()
        defer { lock.unlock() }
        if let builtVocabulary { return builtVocabulary }
        let bytes: [[UInt8]?] = (0..<vocabularySize).map { id in
            id < tokenizer.vocabularySize && !tokenizer.isSpecial(id) ? tokenizer.bytes(ofToken: id) : nil
        }
        let built = TokenVocabulary(tokenBytes: bytes, size: vocabularySize)
        builtVocabulary = built
        return built
    }

    public func constraint(_ spec: ConstraintSpec) throws -> TokenConstraint {
        try cache.constraint(key: spec.key, vocabulary: vocabulary, grammar: spec.grammar)
    }
}
