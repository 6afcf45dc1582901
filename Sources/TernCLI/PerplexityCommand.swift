// `tern perplexity`: how well a model (quantized or not) predicts a text file.
import ArgumentParser
import Foundation
import TernEngine

struct PerplexityCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "perplexity", abstract: "Perplexity of a model on a text file.")

    @OptionGroup var model: ModelOption
    @OptionGroup var loading: LoadingOptions
    @Option(help: "UTF-8 text file to score.") var file: String
    @Option(help: "Tokens per window (default: the model's context, at most 512).") var context: Int?

    func run() throws {
        try reportingErrors {
            let loaded = try LoadedModel(path: try model.url, options: loading.options)
            let text: String
            do { text = try String(contentsOfFile: file, encoding: .utf8) } catch { throw ValidationError("cannot read \(file)") }
            let tokens = loaded.tokenizer.encode(text)
            let window = context ?? min(loaded.model.config.maxPositionEmbeddings, 512)
            let result = Perplexity.measure(model: loaded.model, tokens: tokens, context: max(2, window))
            print(String(format: "%@ %@: perplexity %.4f over %d tokens", loaded.name, loading.quantization.rawValue, result.perplexity, result.tokens))
        }
    }
}
