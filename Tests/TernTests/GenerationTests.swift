// Generation with a real fixture model: stop strings, EOS, limits and bad prompts.
import Foundation
import Testing
import TernEngine

@Suite struct GenerationTests {
    static let loaded = Result { try LoadedModel(path: Fixtures.model("qwen2-bpe")) }

    static func greedy(maxTokens: Int = 32) -> SamplingParameters {
        var p = SamplingParameters()
        p.temperature = 0
        p.maxTokens = maxTokens
        p.ignoreEOS = true
        return p
    }

    @Test func stopStringEndsGenerationAndIsNotEmitted() throws {
        let loaded = try Self.loaded.get()
        let generator = Generator(loaded: loaded, maxModelLength: 256)
        let prompt = loaded.tokenizer.encode("Once upon a time")
        let full = try generator.generate(prompt: prompt, parameters: Self.greedy())
        // Pick a stop string that spans a token boundary in the greedy text.
        let pieces = full.tokens.map { loaded.tokenizer.decode([$0]) }
        let boundary = pieces.indices.dropFirst(4).first { !pieces[$0 - 1].isEmpty && !pieces[$0].isEmpty }!
        let stop = String(pieces[boundary - 1].suffix(1)) + String(pieces[boundary].prefix(1))
        var parameters = Self.greedy()
        parameters.stop = [stop]
        var streamed = ""
        let stopped = try generator.generate(prompt: prompt, parameters: parameters) { streamed += $0 }
        let expected = String(full.text[..<full.text.range(of: stop)!.lowerBound])
        #expect(stopped.finishReason == .stop)
        #expect(stopped.text == expected)
        #expect(streamed == expected)
        #expect(!streamed.contains(stop))
    }

    @Test func endOfSequenceStopsUnlessIgnored() throws {
        let loaded = try Self.loaded.get()
        let generator = Generator(loaded: loaded, maxModelLength: 256)
        let prompt = loaded.tokenizer.encode("Once upon a time")
        let free = try generator.generate(prompt: prompt, parameters: Self.greedy(maxTokens: 8))
        // Declaring the third greedy token a stop token ends the sequence right there.
        var parameters = Self.greedy(maxTokens: 8)
        parameters.stopTokenIds = [free.tokens[2]]
        let stopped = try generator.generate(prompt: prompt, parameters: parameters)
        #expect(stopped.tokens == Array(free.tokens.prefix(3)))
        #expect(stopped.finishReason == .stop)
        #expect(free.finishReason == .length && free.tokens.count == 8)
    }

    @Test func contextLimitEndsWithLength() throws {
        let loaded = try Self.loaded.get()
        let generator = Generator(loaded: loaded, maxModelLength: 12)
        let prompt = loaded.tokenizer.encode("Once upon a time")
        let result = try generator.generate(prompt: prompt, parameters: Self.greedy(maxTokens: 100))
        #expect(result.finishReason == .length)
        #expect(prompt.count + result.tokens.count == 12)
    }

    @Test func badPromptsAreErrors() throws {
        let generator = Generator(loaded: try Self.loaded.get(), maxModelLength: 8)
        #expect(throws: EngineError.self) { try generator.generate(prompt: [], parameters: Self.greedy()) }
        #expect(throws: EngineError.self) { try generator.generate(prompt: [1, 99999], parameters: Self.greedy()) }
        #expect(throws: EngineError.self) { try generator.generate(prompt: Array(repeating: 5, count: 8), parameters: Self.greedy()) }
    }

    @Test func seededSamplingIsReproducible() throws {
        let loaded = try Self.loaded.get()
        let generator = Generator(loaded: loaded, maxModelLength: 256)
        var parameters = SamplingParameters()
        parameters.maxTokens = 24
        parameters.seed = 42
        parameters.ignoreEOS = true
        let prompt = loaded.tokenizer.encode("床前明月光")
        let a = try generator.generate(prompt: prompt, parameters: parameters)
        let b = try generator.generate(prompt: prompt, parameters: parameters)
        parameters.seed = 43
        let c = try generator.generate(prompt: prompt, parameters: parameters)
        #expect(a.tokens == b.tokens)
        #expect(a.tokens != c.tokens)
    }
}
