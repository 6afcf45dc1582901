// `tern run`: complete a raw prompt (no chat template) and stream the text to stdout.
import ArgumentParser
import Foundation
import TernEngine

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "run", abstract: "Complete a prompt and stream the text.")

    @OptionGroup var model: ModelOption
    @Option(help: "Prompt text (BOS is added as the tokenizer says).") var prompt: String?
    @Option(name: .customLong("prompt-ids"), help: "Prompt as comma-separated token ids, e.g. 1,2,3.") var promptIds: String?
    @OptionGroup var sampling: SamplingOptions
    @OptionGroup var loading: LoadingOptions
    @Flag(help: "Print one JSON object with prompt_tokens, tokens, text and finish_reason.") var json = false

    func validate() throws {
        guard (prompt == nil) != (promptIds == nil) else { throw ValidationError("give exactly one of --prompt and --prompt-ids") }
    }

    func run() throws {
        try reportingErrors {
            let loaded = try LoadedModel(path: try model.url, options: loading.options)
            let ids = try promptTokens(loaded)
            let result = try sampling.generator(loaded).generate(prompt: ids, parameters: sampling.parameters(loaded, defaultMaxTokens: 128)) { text in
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
}

/// The `--json` output; field names are the wire names.
private struct RunOutput: Encodable {
    let prompt_tokens: [Int]
    let tokens: [Int]
    let text: String
    let finish_reason: String
}
