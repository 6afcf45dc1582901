// The engine's step loop: many sequences batched together and prompts prefilled in chunks give
// exactly the tokens each request gets alone.
import Foundation
import Testing
@testable import TernEngine

@Suite struct EngineSchedulingTests {
    static func engine(budget: Int, prefixCaching: Bool = false) throws -> Engine {
        var configuration = EngineConfiguration(maxModelLength: 256)
        configuration.maxNumBatchedTokens = budget
        configuration.enablePrefixCaching = prefixCaching
        return Engine(loaded: try LoadedModel(path: Fixtures.model("llama3-bpe")), configuration: configuration)
    }

    @Test func chunkedPrefillAndBatchingMatchRunningAlone() async throws {
        let alone = try Self.engine(budget: 4096)
        defer { alone.shutdown() }
        let batched = try Self.engine(budget: 7, prefixCaching: true)
        defer { batched.shutdown() }
        let prompts = (0..<6).map { i in Array((10 + i)...(10 + i + 5 * i + 3)) }
        var expected: [[Int]] = []
        for (i, prompt) in prompts.enumerated() {
            expected.append(try await PrefixCacheEngineTests.run(alone, prompt, maxTokens: 8 + i))
        }
        // All at once: sequences of different lengths join and leave mid-way, prompts longer than the
        // 7-token budget are prefilled over several steps while others decode.
        let results = try await withThrowingTaskGroup(of: (Int, [Int]).self) { group in
            for (i, prompt) in prompts.enumerated() {
                group.addTask { (i, try await PrefixCacheEngineTests.run(batched, prompt, maxTokens: 8 + i)) }
            }
            var collected = [[Int]](repeating: [], count: prompts.count)
            for try await (i, tokens) in group { collected[i] = tokens }
            return collected
        }
        #expect(results == expected)
        #expect(batched.stats.usedBlocks == 0 && batched.stats.running == 0)
    }
}

@Suite struct PreemptionTests {
    @Test func aPoolTooSmallForEveryonePreemptsAndLosesNothing() async throws {
        let loaded = try LoadedModel(path: Fixtures.model("qwen2-bpe"))
        var roomy = EngineConfiguration(maxModelLength: 256)
        roomy.enablePrefixCaching = false
        let alone = Engine(loaded: loaded, configuration: roomy)
        defer { alone.shutdown() }
        // 4-token blocks, 8 of them: one request needs up to 6, so 12 at once must take turns.
        var tiny = EngineConfiguration(maxModelLength: 64)
        tiny.blockSize = 4
        tiny.blockCount = 8
        let engine = Engine(loaded: loaded, configuration: tiny)
        defer { engine.shutdown() }
        let prompts = (0..<12).map { i in Array((20 + i)...(26 + i + i % 4)) }
        var expected: [[Int]] = []
        for prompt in prompts { expected.append(try await PrefixCacheEngineTests.run(alone, prompt, maxTokens: 14)) }
        let results = try await withThrowingTaskGroup(of: (Int, [Int]).self) { group in
            for (i, prompt) in prompts.enumerated() {
                group.addTask { (i, try await PrefixCacheEngineTests.run(engine, prompt, maxTokens: 14)) }
            }
            var collected = [[Int]](repeating: [], count: prompts.count)
            for try await (i, tokens) in group { collected[i] = tokens }
            return collected
        }
        #expect(results == expected)
        #expect(engine.stats.preemptions > 0, "the small pool forced preemption")
        #expect(engine.stats.usedBlocks == 0 && engine.stats.running == 0 && engine.stats.waiting == 0)
    }
}
