// Perplexity of a model on a text: exp of the mean negative log-likelihood of each token given
// the ones before it, over windows of at most `context` tokens.
import Foundation
import TernModels

public enum Perplexity {
    public static func measure(model: LanguageModel, tokens: [Int], context: Int) -> (perplexity: Double, tokens: Int) {
        var negativeLogLikelihood = 0.0, counted = 0
        var start = 0
        while start + 1 < tokens.count {
            let window = Array(tokens[start..<min(tokens.count, start + context)])
            let blocks = (0..<Int32((window.count + 15) / 16)).map { $0 }
            let rows = model.forward(ForwardBatch([SequenceChunk(tokens: window, startPosition: 0, blockTable: blocks, logitRows: .allTokens)]),
                                     cache: model.makeKVCache(blockSize: 16, blockCount: blocks.count)).rows
            for i in 0..<(window.count - 1) {
                negativeLogLikelihood -= Double(Sampler.logSoftmax(rows[i])[window[i + 1]])
                counted += 1
            }
            start += window.count - 1
        }
        return (exp(negativeLogLikelihood / Double(max(counted, 1))), counted)
    }
}
