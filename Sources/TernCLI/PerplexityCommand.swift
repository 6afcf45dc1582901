// `tern perplexity`: how well a model (quantized or not) predicts a text file.
import ArgumentParser
import Foundation
import TernEngine

enum PerplexityMethod: String, ExpressibleByArgument {
    case windows
    case llamaCpp = "llama.cpp"
}

struct PerplexityCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "perplexity", abstract: "Perplexity of a model on a text file.")

    @OptionGroup var model: ModelOption
    @OptionGroup var loading: LoadingOptions
    @Option(help: "UTF-8 text file to score.") var file: String
    @Option(help: "Tokens per window (default: the model's context, at most 512).") var context: Int?
    @Option(help: "windows: every token, in windows overlapping by one; llama.cpp: as llama-perplexity scores (whole chunks, second halves).")
    var method: PerplexityMethod = .windows

    func run() throws {
        try reportingErrors {
            let loaded = try LoadedModel(path: try model.url, options: loading.options)
            let text: String
            do { text = try String(contentsOfFile: file, encoding: .utf8) } catch { throw ValidationError("cannot read \(file)") }
            let tokens = loaded.tokenizer.encode(text)
            let window = max(2, context ?? min(loaded.model.config.maxPositionEmbeddings, 512))
            let result: (perplexity: Double, tokens: Int)
            switch method {
            case .windows:
                result = Perplexity.measure(model: loaded.model, tokens: tokens, context: window)
            case .llamaCpp:
                guard let measured = Perplexity.measureLikeLlamaCpp(model: loaded.model, tokens: tokens, context: window, bos: loaded.tokenizer.bosTokenId)
                else { throw ValidationError("the text has \(tokens.count) tokens; the llama.cpp method needs two chunks of --context \(window)") }
                result = measured
            }
            print(String(format: "%@ %@: perplexity %.4f over %d tokens", loaded.name, loading.quantization.rawValue, result.perplexity, result.tokens))
        }
    }
}
