// Sampling on known logit vectors: each filter changes the distribution as it should, and a seed reproduces draws.
import Foundation
import Testing
import TernOps
@testable import TernEngine

@Suite struct SamplerTests {
    static let logits: [Float] = [2, 1, 0, -1, 3]   // token 4 is the most likely, then 0, 1, 2, 3

    static func sampler(_ configure: (inout SamplingParameters) -> Void) -> Sampler {
        var p = SamplingParameters()
        configure(&p)
        return Sampler(parameters: p, endTokenIds: [3])
    }

    static func softmax(_ values: [Double]) -> [Double] {
        let m = values.max()!
        let e = values.map { exp($0 - m) }
        return e.map { $0 / e.reduce(0, +) }
    }

    @Test func greedyTakesTheArgmax() {
        var s = Self.sampler { $0.temperature = 0 }
        #expect(s.sample(Self.logits, promptTokens: [], outputTokens: []).id == 4)
    }

    @Test func temperatureScalesTheDistribution() {
        let s = Self.sampler { $0.temperature = 0.5 }
        let d = s.distribution(Self.logits)
        let expected = Self.softmax(Self.logits.map { Double($0) / 0.5 })
        for (id, p) in d { #expect(abs(p - expected[id]) < 1e-6) }
        #expect(d.map(\.id) == [4, 0, 1, 2, 3])
        let hot = Self.sampler { $0.temperature = 2 }.distribution(Self.logits)
        #expect(hot[0].p < d[0].p, "a higher temperature flattens the distribution")
    }

    @Test func topKKeepsTheKMostLikely() {
        let d = Self.sampler { $0.topK = 2 }.distribution(Self.logits)
        #expect(d.map(\.id) == [4, 0])
        #expect(abs(d[0].p - 1 / (1 + exp(-1))) < 1e-6)
    }

    @Test func topPKeepsTheSmallestSetReachingP() {
        // Probabilities: 0.636, 0.234, 0.086, 0.032, 0.012.
        let d = Self.sampler { $0.topP = 0.8 }.distribution(Self.logits)
        #expect(d.map(\.id) == [4, 0])
        let d2 = Self.sampler { $0.topP = 0.9 }.distribution(Self.logits)
        #expect(d2.map(\.id) == [4, 0, 1])
        #expect(abs(d2.map(\.p).reduce(0, +) - 1) < 1e-9)
    }

    @Test func minPDropsUnlikelyTokens() {
        // Relative to the top token: 1, e^-1=0.37, e^-2=0.14, e^-3, e^-4.
        let d = Self.sampler { $0.minP = 0.2 }.distribution(Self.logits)
        #expect(d.map(\.id) == [4, 0])
    }

    @Test func seedReproducesAndDiffersAcrossSeeds() {
        func draws(_ seed: UInt64) -> [Int] {
            var s = Self.sampler { $0.seed = seed; $0.temperature = 1.5 }
            return (0..<64).map { _ in s.sample(Self.logits, promptTokens: [], outputTokens: []).id }
        }
        #expect(draws(7) == draws(7))
        #expect(draws(7) != draws(8))
        #expect(Set(draws(7)).count > 2, "sampling at temperature 1.5 visits several tokens")
    }

    @Test func samplingFrequenciesFollowTheDistribution() {
        var s = Self.sampler { $0.seed = 1 }
        var counts = [Int](repeating: 0, count: 5)
        for _ in 0..<20000 { counts[s.sample(Self.logits, promptTokens: [], outputTokens: []).id] += 1 }
        let expected = Self.softmax(Self.logits.map { Double($0) })
        for id in 0..<5 { #expect(abs(Double(counts[id]) / 20000 - expected[id]) < 0.015) }
    }

    static let twoThreads = Compute(threads: 2)

    @Test func softmaxDrawWalksTheExactDistribution() {
        // The vectorised draw, on one thread and split over two, against a double-precision CDF
        // walk, on vocabularies of one chunk, several chunks and Qwen2's size, with masked tokens;
        // draws that land within 1e-5 of a boundary between two tokens may go either way.
        var random = RandomSource(seed: 7)
        for size in [1, 5, 1000, 5000, 151_936] {
            for round in 0..<20 {
                var scores = (0..<size).map { _ in Float(random.nextUnit() * 20 - 10) }
                if size > 5 { for i in stride(from: round, to: size, by: 3) { scores[i] = -.infinity } }
                let temperature = Float([0.3, 0.7, 1.0, 1.5][round % 4]), unit = random.nextUnit()
                let best = Double(scores.max()!)
                let weights = scores.map { $0 == -.infinity ? 0 : exp((Double($0) - best) / Double(temperature)) }
                let total = weights.reduce(0, +)
                var cumulative = 0.0, expected = 0, nearBoundary = false
                for (i, w) in weights.enumerated() {
                    cumulative += w / total
                    if abs(cumulative - unit) < 1e-5 { nearBoundary = true }
                    if cumulative > unit { expected = i; break }
                }
                for compute in [nil, Self.twoThreads] {
                    let drawn = Ops.sampleSoftmax(scores, temperature: temperature, unit: unit, compute: compute)
                    #expect(scores[drawn] > -.infinity)
                    if !nearBoundary { #expect(drawn == expected, "vocabulary \(size), round \(round)") }
                }
            }
        }
        #expect(Ops.sampleSoftmax([-.infinity, 1, -.infinity], temperature: 1, unit: 0.999) == 1)
    }

    @Test func penaltiesAndBiasAdjustLogits() {
        var scores = Self.logits
        Self.sampler { $0.repetitionPenalty = 2; $0.logitBias = [2: 5] }
            .applyBiasAndPenalties(&scores, promptTokens: [4], outputTokens: [3])
        #expect(scores == [2, 1, 5, -2, 1.5])
        var additive = Self.logits
        Self.sampler { $0.presencePenalty = 0.5; $0.frequencyPenalty = 0.25 }
            .applyBiasAndPenalties(&additive, promptTokens: [0], outputTokens: [1, 1, 4])
        #expect(additive == [2, 0, 0, -1, 2.25])
    }

    @Test func minTokensMasksEndTokens() {
        var scores: [Float] = [0, 0, 0, 10]
        Self.sampler { $0.minTokens = 2 }.applyBiasAndPenalties(&scores, promptTokens: [], outputTokens: [0])
        #expect(scores[3] == -.infinity)
    }

    @Test func logprobsReportTheTopTokens() {
        var s = Self.sampler { $0.temperature = 0; $0.logprobs = 2 }
        let token = s.sample(Self.logits, promptTokens: [], outputTokens: [])
        let expected = Self.softmax(Self.logits.map { Double($0) })
        #expect(abs(Double(token.logprob!) - log(expected[4])) < 1e-5)
        #expect(token.topLogprobs.map(\.id) == [4, 0])
    }
}

@Suite struct StopCheckerTests {
    @Test func findsAStopSpanningPiecesAndHoldsBackPrefixes() {
        var checker = StopChecker(stops: ["END"])
        #expect(checker.append("hello E") == .text("hello "))
        #expect(checker.append("N") == .text(""))
        #expect(checker.append("D and more") == .stopped("", stop: "END"))
    }

    @Test func releasesHeldTextThatWasNotAStop() {
        var checker = StopChecker(stops: ["END"])
        #expect(checker.append("abcE") == .text("abc"))
        #expect(checker.append("x") == .text("Ex"))
        #expect(checker.append("EN") == .text(""))
        #expect(checker.finish() == "EN")
    }

    @Test func earliestStopWins() {
        var checker = StopChecker(stops: ["world", "lo"])
        #expect(checker.append("hello world") == .stopped("hel", stop: "lo"))
    }
}
