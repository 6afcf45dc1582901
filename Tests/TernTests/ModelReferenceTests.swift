// The forward pass against transformers: logits at every prompt position and greedy continuations.
import Foundation
import Testing
import TernEngine
import TernFormats
import TernModels

@Suite struct ModelReferenceTests {

    @Test(arguments: Fixtures.modelNames)
    func logitsMatchTransformers(model name: String) throws {
        try Self.expectReferenceLogits(try LoadedModel(path: Fixtures.model(name)), reference: name)
    }

    @Test(arguments: Fixtures.modelNames)
    func greedyContinuationIsTokenIdentical(model name: String) throws {
        try Self.expectReferenceGreedy(try LoadedModel(path: Fixtures.model(name)), reference: name)
    }

    /// Logits at every position of every reference prompt within the reference's tolerance.
    static func expectReferenceLogits(_ loaded: LoadedModel, reference name: String) throws {
        let reference = try Fixtures.reference(name)
        let expected = try Fixtures.referenceLogits(name)
        let vocab = reference["vocab_size"]!.intValue!
        // f32 checkpoints must match to 1e-3; f16/bf16 ones (computed in f32 on both sides) to 2e-2.
        let tolerance: Float = reference["dtype"]?.stringValue == "float32" ? 1e-3 : 2e-2
        var offset = 0
        for prompt in reference["prompts"]!.arrayValue! {
            let ids = prompt["ids"]!.ints
            // Logits to 1e-3 check the arithmetic, so the cache keeps f32 (KVCacheTypeTests checks the
            // others; the greedy test below runs the default f16 cache).
            let cache = loaded.model.makeKVCache(blockSize: 4, blockCount: 64, type: .f32)
            let table = (0..<Int32((ids.count + 3) / 4)).map { $0 * 3 % 64 }  // scattered blocks
            let logits = loaded.model.forward(ForwardBatch([SequenceChunk(tokens: ids, startPosition: 0, blockTable: table, logitRows: .allTokens)]), cache: cache)
            #expect(logits.rows.count == ids.count)
            var worst: Float = 0
            for (row, values) in logits.rows.enumerated() {
                for (i, value) in values.enumerated() {
                    worst = max(worst, abs(value - expected[offset + row * vocab + i]))
                }
            }
            #expect(worst < tolerance, "\(name) \(prompt["text"]!.stringValue!): max |Δlogit| = \(worst)")
            offset += ids.count * vocab
        }
        #expect(offset == expected.count)
    }

    /// The reference's greedy continuation of every prompt, token for token; with `positions`, only
    /// the tokens generated at positions below it (prompts that reach it are skipped).
    static func expectReferenceGreedy(_ loaded: LoadedModel, reference name: String, positions: Int? = nil) throws {
        let generator = Generator(loaded: loaded, maxModelLength: 256, blockSize: 8)
        var parameters = SamplingParameters()
        parameters.temperature = 0
        parameters.ignoreEOS = true
        for prompt in try Fixtures.reference(name)["prompts"]!.arrayValue! {
            let ids = prompt["ids"]!.ints
            var expected = prompt["greedy"]!.ints
            if let positions {
                guard ids.count < positions else { continue }
                expected = Array(expected.prefix(positions - ids.count + 1))
            }
            parameters.maxTokens = expected.count
            let result = try generator.generate(prompt: ids, parameters: parameters)
            #expect(result.tokens == expected, "\(name): \(prompt["text"]!.stringValue!)")
            #expect(result.finishReason == .length)
        }
    }

    @Test func chunkedPrefillEqualsOnePass() throws {
        // The same prompt fed in three chunks through the paged cache gives the same last logits.
        let loaded = try LoadedModel(path: Fixtures.model("mistral-window"))
        let ids = try Fixtures.reference("mistral-window")["prompts"]!.arrayValue![0]["ids"]!.ints
        let table: [Int32] = [5, 2, 7, 0]
        let whole = loaded.model.forward(ForwardBatch([SequenceChunk(tokens: ids, startPosition: 0, blockTable: table)]),
                                         cache: loaded.model.makeKVCache(blockSize: 4, blockCount: 8)).rows[0]
        let cache = loaded.model.makeKVCache(blockSize: 4, blockCount: 8)
        var last: [Float] = []
        for range in [0..<2, 2..<5, 5..<ids.count] {
            last = loaded.model.forward(ForwardBatch([SequenceChunk(tokens: Array(ids[range]), startPosition: range.lowerBound, blockTable: table)]),
                                        cache: cache).rows[0]
        }
        #expect(zip(whole, last).allSatisfy { abs($0 - $1) < 1e-4 })
    }
}
