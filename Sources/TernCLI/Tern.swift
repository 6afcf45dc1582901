// The `tern` command: a thin shell over the engine libraries.
import ArgumentParser
import TernHub
import Foundation
import TernEngine
import TernServer

@main
struct Tern: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tern",
        abstract: "Tern: run open LLMs (LLaMA, Qwen2, Mistral) on your own machine.",
        subcommands: [ServeCommand.self, RunCommand.self, ChatCommand.self, TemplateCommand.self, BenchCommand.self, PerplexityCommand.self, QuantizeCommand.self, InfoCommand.self, TokenizeCommand.self, DetokenizeCommand.self,
                      HealthcheckCommand.self, PullCommand.self, ListCommand.self, RemoveCommand.self, EstimateCommand.self]
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
    @Option(name: .long, help: "A model folder or GGUF file, or a repository id (owner/name) served from the download cache, fetched first if missing (default: the built-in tern-demo).")
    var model: String?
    @Flag(name: .customLong("no-download"), help: "A repository id must already be in the cache.") var noDownload = false

    var url: URL {
        get throws {
            guard let model else { return try DemoModel.locate() }
            do { return URL(fileURLWithPath: try ModelLocator().locateWaiting(model, download: !noDownload)) } catch let error as HubError {
                throw ValidationError(error.message)
            }
        }
    }
}
