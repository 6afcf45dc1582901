// `tern run`: complete a raw prompt (no chat template) and stream the text to stdout.
import ArgumentParser
import Foundation
import TernEngine

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "run", abstract: "Complete a prompt and stream the text.")

    @OptionGroup var model: ModelOption
    @Option(help: "Prompt text (BOS is added as the tokenizer says).") var prompt: String?
    @Option(name: .customLong("prompt-ids"), help: "Prompt as comma-separated token ids, e.g. 1,2,3.") var promptIds: String?
    @Option(name: .customLong("max-tokens"), help: "Tokens to generate at most.") var maxTokens = 128
    @Option(help: "Sampling temperature; 0 is greedy.") var temperature: Double?
    @Option(name: .customLong("top-p")) var topP: Double?
    @Option(name: .customLong("top-k")) var topK: Int?
    @Option(name: .customLong("min-p")) var minP: Double?
    @Option(name: .customLong("repetition-penalty")) var repetitionPenalty: Double?
    @Option(help: "Seed for reproducible sampling.") var seed: UInt64?
    @Option(help: "Stop string (repeatable).") var stop: [String] = []
    @Flag(name: .customLong("ignore-eos"), help: "Keep generating past end-of-sequence tokens.") var ignoreEOS = false
    @Option(name: .customLong("max-model-len"), help: "Context length (default: the model's, at most 4096).") var maxModelLength: Int?
    @Flag(help: "Print one JSON object with prompt_tokens, tokens, text and finish_reason.") var json = false

    func validate() throws {
        guard (prompt == nil) != (promptIds == nil) else { throw ValidationError("give exactly one of --prompt and --prompt-ids") }
        guard maxTokens > 0 else { throw ValidationError("--max-tokens must be at least 1") }
        if let temperature, temperature < 0 { throw ValidationError("--temperature must not be negative") }
        if let topP, !(topP > 0 && topP <= 1) { throw ValidationError("--top-p must be in (0, 1]") }
        if let minP, !(0...1).contains(minP) { throw ValidationError("--min-p must be in [0, 1]") }
    }

    func run() throws {
        try reportingErrors {
            let loaded = try LoadedModel(directory: model.url)
            let ids = try promptTokens(loaded)
            let generator = Generator(loaded: loaded, maxModelLength: maxModelLength ?? min(loaded.model.config.maxPositionEmbeddings, 4096))
            let result = try generator.generate(prompt: ids, parameters: parameters(loaded)) { text in
                guard !json else { return }
                FileHandle.standardOutput.write(Data(text.utf8))
            }
            if json {
                let output = RunOutput(prompt_tokens: result.promptTokens, tokens: result.tokens, text: result.text,
                                       finish_reason: result.finishReason.rawValue)
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.withoutEscapingSlashes]
                FileHandle.standardOutput.write(try encoder.encode(output) + Data("\n".utf8))
            } else {
                FileHandle.standardOutput.write(Data("\n".utf8))
            }
        }
    }

    private func promptTokens(_ loaded: LoadedModel) throws -> [Int] {
        if let prompt { return loaded.tokenizer.encode(prompt) }
        let parts = promptIds!.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        let ids = parts.compactMap { Int($0) }
        guard ids.count == parts.count, !ids.isEmpty else {
            throw ValidationError("--prompt-ids must be comma-separated integers, e.g. 1,2,3")
        }
        return ids
    }

    private func parameters(_ loaded: LoadedModel) -> SamplingParameters {
        let defaults = loaded.generationConfig
        var p = SamplingParameters()
        p.temperature = temperature ?? defaults.temperature ?? 1
        p.topP = topP ?? defaults.topP ?? 1
        p.topK = topK ?? defaults.topK ?? 0
        p.minP = minP ?? 0
        p.repetitionPenalty = repetitionPenalty ?? defaults.repetitionPenalty ?? 1
        p.seed = seed
        p.maxTokens = maxTokens
        p.stop = stop
        p.ignoreEOS = ignoreEOS
        return p
    }
}

/// The `--json` output; field names are the wire names.
private struct RunOutput: Encodable {
    let prompt_tokens: [Int]
    let tokens: [Int]
    let text: String
    let finish_reason: String
}
