// The `tern` command: a thin shell over the engine libraries.
import ArgumentParser
import Foundation
import TernEngine
import TernServer

@main
struct Tern: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tern",
        abstract: "Tern: run open LLMs (LLaMA, Qwen2, Mistral) on your own machine.",
        subcommands: [ServeCommand.self, RunCommand.self, ChatCommand.self, TemplateCommand.self, BenchCommand.self, PerplexityCommand.self, QuantizeCommand.self, InfoCommand.self, TokenizeCommand.self, DetokenizeCommand.self,
                      HealthcheckCommand.self, PullCommand.self]
    )
}

/// Runs a command body, turning any error into one line on stderr and exit status 1.
func reportingErrors(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let error as ExitCode {
        throw error
    } catch {
        FileHandle.standardError.write(Data("error: \(error)\n".utf8))
        throw ExitCode(1)
    }
}

struct ModelOption: ParsableArguments {
    @Option(name: .long, help: "A folder with config.json, *.safetensors and tokenizer.json, or a GGUF file (default: the built-in tern-demo).")
    var model: String?

    var url: URL {
        get throws { try model.map { URL(fileURLWithPath: $0) } ?? DemoModel.locate() }
    }
}
