// Prefix caching: blocks are reference counted, reused by hash, evicted least recently used,
// and a request served from cached blocks answers exactly as one computed from scratch.
import Foundation
import Testing
@testable import TernEngine

@Suite struct BlockPoolTests {
    @Test func cachedBlocksAreReusedThenEvictedOldestFirst() {
        let pool = BlockPool(blockSize: 4, blockCount: 4)
        let hashes = pool.blockHashes(Array(1...9))
        #expect(hashes.count == 2, "only full blocks are hashed")
        var a: [Int32] = []
        #expect(pool.reserve(&a, forTokens: 9))
        pool.register(a[0], hash: hashes[0])
        pool.register(a[1], hash: hashes[1])
        pool.release(&a)
        #expect(pool.availableBlockCount == 4 && pool.usedBlockCount == 0)
        var b = pool.reuse(hashes)
        #expect(b.count == 2 && pool.referenceCount(b[0]) == 1)
        var c = pool.reuse(Array(hashes.prefix(1)))
        #expect(c == [b[0]] && pool.referenceCount(b[0]) == 2, "two sequences share the block")
        pool.release(&c)
        pool.release(&b)
        // Needing every block evicts the cached ones; the hashes are then gone.
        var d: [Int32] = []
        #expect(pool.reserve(&d, forTokens: 16))
        #expect(pool.reuse(hashes).isEmpty)
        #expect(!pool.reserve(&c, forTokens: 1), "nothing left")
        pool.release(&d)
        #expect(pool.availableBlockCount == 4)
        #expect((0..<4).allSatisfy { pool.referenceCount(Int32($0)) == 0 })
    }

    @Test func chainedHashesDependOnEverythingBefore() {
        let pool = BlockPool(blockSize: 2, blockCount: 1)
        let a = pool.blockHashes([1, 2, 3, 4]), b = pool.blockHashes([9, 2, 3, 4])
        #expect(a[0] != b[0] && a[1] != b[1], "the same second block after a different first block is a different block")
        #expect(pool.blockHashes([1, 2, 3, 4, 5]) == a)
    }
}

@Suite struct PrefixCacheEngineTests {
    static func run(_ engine: Engine, _ prompt: [Int], maxTokens: Int = 12) async throws -> [Int] {
        var parameters = SamplingParameters()
        parameters.temperature = 0
        parameters.maxTokens = maxTokens
        parameters.ignoreEOS = true
        var tokens: [Int] = []
        for await event in try engine.submit(EngineRequest(id: UUID().uuidString, promptTokens: prompt, parameters: parameters)) {
            if case .token(let step) = event { tokens.append(step.token.id) }
        }
        return tokens
    }

    @Test func repeatedPromptsHitTheCacheAndAnswerTheSame() async throws {
        let loaded = try LoadedModel(path: Fixtures.model("qwen2-bpe"))
        var configuration = EngineConfiguration(maxModelLength: 256)
        configuration.blockSize = 8
        configuration.blockCount = 12
        let engine = Engine(loaded: loaded, configuration: configuration)
        defer { engine.shutdown() }
        var plain = configuration
        plain.enablePrefixCaching = false
        let reference = Engine(loaded: loaded, configuration: plain)
        defer { reference.shutdown() }

        let shared = Array(1...40)
        let first = try await Self.run(engine, shared + [50, 51])
        #expect(engine.stats.prefixCacheHits == 0)
        // Same 40-token start: five full blocks of 8 are reused.
        let second = try await Self.run(engine, shared + [60, 61, 62])
        #expect(engine.stats.prefixCacheHits == 40)
        #expect(second == (try await Self.run(reference, shared + [60, 61, 62])), "cached KV gives the same answer")
        // The whole prompt cached: its last block is recomputed so the last token yields logits.
        let again = try await Self.run(engine, shared + [50, 51])
        #expect(again == first)
        // More requests than the pool holds at once evict old blocks and still answer correctly.
        for offset in 0..<4 {
            let prompt = Array((100 + offset * 10)...(140 + offset * 10))
            #expect(try await Self.run(engine, prompt) == (try await Self.run(reference, prompt)))
        }
        #expect(engine.stats.usedBlocks == 0, "no block is held once every request ended")
        #expect(reference.stats.prefixCacheQueries == 0)
    }
}
