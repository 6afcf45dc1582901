// Checks every request meets before it is generated: a non-empty prompt of known tokens that,
// with room for at least one new token, fits the context.

enum RequestValidation {
    static func check(prompt: [Int], parameters: SamplingParameters, vocabularySize: Int, maxModelLength: Int) throws {
        guard !prompt.isEmpty else { throw EngineError("the prompt is empty") }
        if let bad = prompt.first(where: { $0 < 0 || $0 >= vocabularySize }) {
            throw EngineError("token id \(bad) is outside the vocabulary (0..<\(vocabularySize))")
        }
        guard prompt.count < maxModelLength else {
            throw EngineError("the prompt has \(prompt.count) tokens; the maximum context length is \(maxModelLength)")
        }
        guard parameters.maxTokens > 0 else { throw EngineError("max_tokens must be at least 1") }
    }
}
