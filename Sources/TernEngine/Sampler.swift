// Chooses the next token from a row of logits: bias, penalties, then greedy or
// temperature / top-k / top-p / min-p sampling.
import Foundation
import TernOps

public struct SampledToken: Sendable, Equatable {
    public let id: Int
    /// Log-probability of the token under the model's distribution (before sampling filters);
    /// computed only when the request asked for logprobs.
    public let logprob: Float?
    /// The most likely tokens and their log-probabilities, when asked for.
    public let topLogprobs: [(id: Int, logprob: Float)]

    public static func == (a: SampledToken, b: SampledToken) -> Bool {
        a.id == b.id && a.logprob == b.logprob && a.topLogprobs.map(\.id) == b.topLogprobs.map(\.id)
    }
}

public struct Sampler: Sendable {
    public let parameters: SamplingParameters
    private var random: RandomSource
    /// Tokens whose generation ends the sequence; masked while fewer than minTokens were made.
    private let endTokenIds: Set<Int>

    public init(parameters: SamplingParameters, endTokenIds: Set<Int>) {
        self.parameters = parameters
        self.endTokenIds = endTokenIds
        random = RandomSource(seed: parameters.seed ?? UInt64.random(in: 0...UInt64.max))
    }

    /// `promptTokens` and `outputTokens` feed the penalties; `compute`'s threads, when given, share
    /// the pass over the vocabulary.
    public mutating func sample(_ logits: [Float], promptTokens: [Int], outputTokens: [Int], compute: Compute? = nil) -> SampledToken {
        var scores = logits
        // Adjusting copies the row (a vocabulary of floats), so only when something changes it.
        if adjustsScores(outputCount: outputTokens.count) {
            applyBiasAndPenalties(&scores, promptTokens: promptTokens, outputTokens: outputTokens)
        }
        let chosen = parameters.isGreedy ? Self.argmax(scores) : draw(from: scores, compute: compute)
        // A full log-softmax per token is only worth its cost when the client wants the numbers.
        guard let count = parameters.logprobs else { return SampledToken(id: chosen, logprob: nil, topLogprobs: []) }
        let logprobs = Self.logSoftmax(scores)
        let top = count > 0 ? Self.largest(count, of: logprobs).map { ($0, logprobs[$0]) } : []
        return SampledToken(id: chosen, logprob: logprobs[chosen], topLogprobs: top)
    }

    private func adjustsScores(outputCount: Int) -> Bool {
        !parameters.logitBias.isEmpty || outputCount < parameters.minTokens || parameters.repetitionPenalty != 1
            || parameters.presencePenalty != 0 || parameters.frequencyPenalty != 0
    }

    func applyBiasAndPenalties(_ scores: inout [Float], promptTokens: [Int], outputTokens: [Int]) {
        for (id, bias) in parameters.logitBias where id >= 0 && id < scores.count { scores[id] += Float(bias) }
        if outputTokens.count < parameters.minTokens {
            for id in endTokenIds where id < scores.count { scores[id] = -.infinity }
        }
        if parameters.repetitionPenalty != 1 {
            let penalty = Float(parameters.repetitionPenalty)
            for id in Set(promptTokens).union(outputTokens) where id < scores.count {
                scores[id] = scores[id] > 0 ? scores[id] / penalty : scores[id] * penalty
            }
        }
        if parameters.presencePenalty != 0 || parameters.frequencyPenalty != 0 {
            var counts: [Int: Int] = [:]
            for id in outputTokens { counts[id, default: 0] += 1 }
            for (id, count) in counts where id < scores.count {
                scores[id] -= Float(parameters.frequencyPenalty) * Float(count) + Float(parameters.presencePenalty)
            }
        }
    }

    /// The filtered, renormalised distribution sampling draws from, as (token, probability),
    /// most likely first.
    func distribution(_ scores: [Float]) -> [(id: Int, p: Double)] {
        let probabilities = Self.softmax(scores, temperature: Float(parameters.temperature))
        let candidates: [Int]
        if parameters.topK > 0, parameters.topK < scores.count {
            candidates = Self.largest(parameters.topK, of: scores)
        } else {
            candidates = Self.mostLikely(probabilities, reaching: parameters.topP)
        }
        guard !candidates.isEmpty else { return [] }
        let candidateTotal = candidates.reduce(0.0) { $0 + probabilities[$1] }
        let kept = candidates.map { probabilities[$0] / candidateTotal }
        var keep = kept.count
        if parameters.topP < 1 {
            var cumulative = 0.0
            for (i, p) in kept.enumerated() {
                cumulative += p
                if cumulative >= parameters.topP { keep = i + 1; break }
            }
        }
        if parameters.minP > 0 {
            let threshold = parameters.minP * kept[0]
            keep = min(keep, kept.prefix { $0 >= threshold }.count)
        }
        let total = kept.prefix(keep).reduce(0, +)
        return zip(candidates, kept.prefix(keep)).map { ($0, $1 / total) }
    }

    /// Softmax of scores / temperature in double precision.
    static func softmax(_ scores: [Float], temperature: Float) -> [Double] {
        let best = scores.max() ?? 0
        var values = scores.map { $0 == -.infinity ? 0 : Double(exp(($0 - best) / temperature)) }
        let total = values.reduce(0, +)
        for i in values.indices { values[i] /= total }
        return values
    }

    /// Token ids by falling probability, zero-probability ones left out. Sorting a whole
    /// vocabulary every token costs more than the rest of a decode step, so when only `mass` is
    /// needed the tokens far below the best are sorted only if the likelier ones fall short of it.
    static func mostLikely(_ probabilities: [Double], reaching mass: Double) -> [Int] {
        let best = probabilities.max() ?? 0
        if mass < 1 {
            let likely = probabilities.indices.filter { probabilities[$0] >= best * 1e-4 }
            if likely.reduce(0.0, { $0 + probabilities[$1] }) >= mass {
                return likely.sorted { probabilities[$0] > probabilities[$1] }
            }
        }
        return probabilities.indices.filter { probabilities[$0] > 0 }.sorted { probabilities[$0] > probabilities[$1] }
    }

    private mutating func draw(from scores: [Float], compute: Compute?) -> Int {
        var target = random.nextUnit()
        if (parameters.topK <= 0 || parameters.topK >= scores.count) && parameters.topP >= 1 && parameters.minP <= 0 {
            // With no filter, draw straight from the softmax (a vectorised kernel, no sorting).
            return Ops.sampleSoftmax(scores, temperature: Float(parameters.temperature), unit: target, compute: compute)
        }
        let options = distribution(scores)
        for option in options {
            target -= option.p
            if target < 0 { return option.id }
        }
        return options.last?.id ?? Self.argmax(scores)
    }

    public static func argmax(_ values: [Float]) -> Int {
        var best = 0
        for i in values.indices where values[i] > values[best] { best = i }
        return best
    }

    /// Indices of the `count` largest values, largest first (ties: lower index first).
    static func largest(_ count: Int, of values: [Float]) -> [Int] {
        var best: [Int] = []
        best.reserveCapacity(count + 1)
        for i in values.indices {
            if best.count < count {
                best.append(i)
                if best.count == count { best.sort { values[$0] > values[$1] } }
            } else if values[i] > values[best[count - 1]] {
                var j = count - 1
                while j > 0, values[best[j - 1]] < values[i] { best[j] = best[j - 1]; j -= 1 }
                best[j] = i
            }
        }
        return best.count < count ? best.sorted { values[$0] > values[$1] } : best
    }

    public static func logSoftmax(_ values: [Float]) -> [Float] {
        let maximum = values.max() ?? 0
        let total = values.reduce(0.0) { $0 + Double(exp($1 - maximum)) }
        let logTotal = Float(log(total)) + maximum
        return values.map { $0 - logTotal }
    }
}
