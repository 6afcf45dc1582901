// Perplexity of a model on a text: exp of the mean negative log-likelihood of each token given
// the ones before it, over windows of at most `context` tokens; or as llama.cpp's
// llama-perplexity computes it, so the two tools can be compared on the same file.
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

    /// llama-perplexity's method: the text (with BOS) cut into whole chunks of `context` tokens, each
    /// chunk's first token replaced by BOS (when the model has one), and only the tokens of the
    /// second half of each chunk scored. Nil when the text has fewer than two chunks.
    public static func measureLikeLlamaCpp(model: LanguageModel, tokens: [Int], context: Int, bos: Int?) -> (perplexity: Double, tokens: Int)? {
        let chunks = tokens.count / context
        guard chunks >= 2 else { return nil }
        var negativeLogLikelihood = 0.0, counted = 0
        let blocks = (0..<Int32((context + 15) / 16)).map { $0 }
        for chunk in 0..<chunks {
            var window = Array(tokens[(chunk * context)..<((chunk + 1) * context)])
            if let bos { window[0] = bos }
            let rows = model.forward(ForwardBatch([SequenceChunk(tokens: window, startPosition: 0, blockTable: blocks, logitRows: .allTokens)]),
                                     cache: model.makeKVCache(blockSize: 16, blockCount: blocks.count)).rows
            for i in (context / 2)..<(context - 1) {
                negativeLogLikelihood -= Double(Sampler.logSoftmax(rows[i])[tokens[chunk * context + i + 1]])
                counted += 1
            }
        }
        return (exp(negativeLogLikelihood / Double(counted)), counted)
    }
}
