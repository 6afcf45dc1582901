// The KV cache's element types: greedy output of the fixtures unchanged with f16 and bf16 caches,
// logits within the q8_0 weight tolerance with a q8_0 cache, and the attention kernel against a
// plain softmax(q·k)·v for every type, over many blocks and query tiles, windows, ALiBi and
// grouped heads.
import Foundation
import Testing
import TernEngine
import TernModels
import TernOps

@Suite struct KVCacheTypeTests {
    @Test(arguments: Fixtures.modelNames)
    func anF16CacheKeepsTheReferenceGreedyTokens(model name: String) throws {
        let loaded = try LoadedModel(path: Fixtures.model(name), options: LoadOptions(kvCache: .type(.f16)))
        #expect(loaded.model.kvCacheType == .f16)
        try ModelReferenceTests.expectReferenceGreedy(loaded, reference: name)
    }

    /// bf16 keeps 8 bits of mantissa: on these tiny random models (whose top logits often nearly tie)
    /// a free-running greedy continuation may part ways late, so each next token is checked with the
    /// reference text as input (teacher-forced), where a flip cannot carry over to later positions.
    @Test(arguments: Fixtures.modelNames)
    func aBF16CacheKeepsAlmostEveryGreedyToken(model name: String) throws {
        let loaded = try LoadedModel(path: Fixtures.model(name))
        var agree = 0, total = 0
        for prompt in try Fixtures.reference(name)["prompts"]!.arrayValue! {
            let ids = prompt["ids"]!.ints, greedy = prompt["greedy"]!.ints
            let rows = Self.logits(loaded.model, ids + greedy.dropLast(), type: .bf16)
            for (offset, expected) in greedy.enumerated() where Sampler.argmax(rows[ids.count - 1 + offset]) == expected { agree += 1 }
            total += greedy.count
        }
        print("bf16 KV cache greedy agreement \(name): \(agree)/\(total)")
        #expect(Double(agree) / Double(total) >= 0.97, "\(name): \(agree)/\(total) greedy tokens agree")
    }

    static func logits(_ model: LanguageModel, _ ids: [Int], type: KVCacheType) -> [[Float]] {
        let table = (0..<Int32((ids.count + 15) / 16)).map { $0 }
        return model.forward(ForwardBatch([SequenceChunk(tokens: ids, startPosition: 0, blockTable: table, logitRows: .allTokens)]),
                             cache: model.makeKVCache(blockSize: 16, blockCount: table.count, type: type)).rows
    }

    @Test(arguments: Fixtures.modelNames)
    func q8CacheLogitsStayWithinTheQ8Tolerance(model name: String) throws {
        let loaded = try LoadedModel(path: Fixtures.model(name))
        let tolerance = QuantizedModelTests.limits.first { $0.0 == .q8_0 }!.logitError
        for prompt in try Fixtures.reference(name)["prompts"]!.arrayValue! {
            let ids = prompt["ids"]!.ints + prompt["greedy"]!.ints
            for (exact, approx) in zip(Self.logits(loaded.model, ids, type: .f32), Self.logits(loaded.model, ids, type: .q8_0)) {
                let range = exact.max()! - exact.min()!
                let worst = zip(exact, approx).map { abs($0 - $1) }.max()!
                #expect(worst / range < tolerance, "\(name): max |Δlogit| \(worst) of range \(range)")
            }
        }
    }

    /// Largest error allowed per type on outputs of order 0.1 (values are uniform in [-1, 1]).
    static let kernelTolerance: [KVCacheType: Float] = [.f32: 1e-5, .f16: 2e-3, .bf16: 1.5e-2, .q8_0: 1.5e-2]

    @Test(arguments: KVCacheType.allCases, [4, 16, 32])
    func attentionMatchesAPlainSoftmax(type: KVCacheType, blockSize: Int) throws {
        // Head size 40: not a multiple of the vector width nor of q8_0's 32-dimension groups.
        let heads = 6, kvHeads = 2, d = 40, group = heads / kvHeads
        // A 37-token prompt (three query tiles), a decode step at position 50, a chunk at 20..24.
        let chunks = [(start: 0, tokens: 37), (start: 50, tokens: 1), (start: 20, tokens: 5)]
        let blocksPerSequence = (51 + blockSize - 1) / blockSize
        let cache = PagedKVCache(layers: 1, blockSize: blockSize, blockCount: 3 * blocksPerSequence, kvHeads: kvHeads, headDim: d, type: type)
        var random = RandomSource(seed: 42)
        func uniform(_ count: Int) -> [Float] { (0..<count).map { _ in Float(random.next() % 2001) / 1000 - 1 } }
        // Sequence s owns blocks s, s + 3, s + 6, ... (interleaved, as a busy pool hands them out).
        let tables = (0..<3).map { s in (0..<blocksPerSequence).map { Int32(s + 3 * $0) } }
        var keys: [[Float]] = [], values: [[Float]] = []
        for (s, chunk) in chunks.enumerated() {
            let k = uniform((chunk.start + chunk.tokens) * kvHeads * d), v = uniform(k.count)
            for position in 0..<(chunk.start + chunk.tokens) {
                k.withUnsafeBufferPointer { kp in
                    v.withUnsafeBufferPointer { vp in
                        cache.store(layer: 0, blockTable: tables[s], position: position, key: kp.baseAddress! + position * kvHeads * d,
                                    value: vp.baseAddress! + position * kvHeads * d)
                    }
                }
            }
            keys.append(k)
            values.append(v)
        }
        let rows = chunks.map(\.tokens).reduce(0, +)
        let queries = uniform(rows * heads * d)
        let scale: Float = 1 / Float(d).squareRoot()
        for (window, slopes) in [(nil, nil), (7, nil), (nil, [0.5, 0.25, 0.125, 0.0625, 0.03125, 0.015625] as [Float])] as [(Int?, [Float]?)] {
            var out = [Float](repeating: .nan, count: rows * heads * d)
            queries.withUnsafeBufferPointer { q in
                out.withUnsafeMutableBufferPointer { o in
                    cache.attend(layer: 0, chunks: zip(chunks, tables).map { PagedKVCache.Chunk(blockTable: $1, startPosition: $0.start, tokens: $0.tokens) },
                                 queries: q.baseAddress!, heads: heads, window: window, scale: scale, alibiSlopes: slopes, out: o.baseAddress!,
                                 compute: Compute(threads: 2))
                }
            }
            let everyRowWritten = out.allSatisfy { $0.isFinite }
            #expect(everyRowWritten, "\(type): every output row written")
            var worst: Float = 0, row = 0
            for (s, chunk) in chunks.enumerated() {
                for token in 0..<chunk.tokens {
                    let pos = chunk.start + token, first = window.map { max(0, pos + 1 - $0) } ?? 0
                    for head in 0..<heads {
                        let kv = head / group, q = Array(queries[((row * heads) + head) * d..<((row * heads) + head + 1) * d])
                        let scores = (first...pos).map { p in
                            let k = keys[s][(p * kvHeads + kv) * d..<(p * kvHeads + kv + 1) * d]
                            return zip(q, k).map(*).reduce(0, +) * scale - (slopes?[head] ?? 0) * Float(pos - p)
                        }
                        let top = scores.max()!, weights = scores.map { exp($0 - top) }, total = weights.reduce(0, +)
                        for i in 0..<d {
                            let expected = zip(first...pos, weights).map { values[s][($0 * kvHeads + kv) * d + i] * $1 }.reduce(0, +) / total
                            worst = max(worst, abs(out[(row * heads + head) * d + i] - expected))
                        }
                    }
                    row += 1
                }
            }
            #expect(worst < Self.kernelTolerance[type]!, "\(type) block \(blockSize) window \(window.map(String.init) ?? "none") alibi \(slopes != nil): max error \(worst)")
        }
    }
}
