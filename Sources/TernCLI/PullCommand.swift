// `tern pull`: download a model from the Hugging Face Hub (HF_ENDPOINT for a mirror) or ModelScope
// into the shared caches, resumable and verified; prints the folder to serve.
import ArgumentParser
import Foundation
import TernHub

struct PullCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "pull", abstract: "Download a model (owner/name) from Hugging Face or ModelScope.")

    @Argument(help: "Repository id, e.g. Qwen/Qwen2.5-0.5B-Instruct.") var repo: String
    @Option(help: "Branch, tag or commit (default main; ModelScope: master).") var revision: String?
    @Option(help: "Only files matching this glob (repeatable), e.g. '*Q4_K_M.gguf'.") var include: [String] = []
    @Option(help: "Leave out files matching this glob (repeatable).") var exclude: [String] = []
    @Option(name: .customLong("local-dir"), help: "Also copy the files into this folder.") var localDirectory: String?
    @Option(help: "huggingface, modelscope, or auto: Hugging Face (or HF_ENDPOINT), ModelScope when that is unreachable.") var source: String = "auto"
    @Option(help: "Access token (default: HF_TOKEN, or MODELSCOPE_API_TOKEN for ModelScope). Never printed.") var token: String?
    @Option(help: "Ranges fetched at once for a large file (default 4).") var parts = 4
    @Option(name: .customLong("split-above"), help: "Files larger than this many bytes are fetched in ranges (default 64 MiB).") var splitAbove = 64 << 20

    func validate() throws {
        if parts < 1 || parts > 64 { throw ValidationError("--parts must be between 1 and 64") }
        if splitAbove < 1 { throw ValidationError("--split-above must be positive") }
    }

    func run() async throws {
        guard let hub = HubSource(rawValue: source) else { throw ValidationError("--source must be huggingface, modelscope or auto") }
        var request = PullRequest(repo: repo)
        request.revision = revision ?? (hub == .modelscope ? "master" : "main")
        request.selection = FileSelection(include: include, exclude: exclude)
        request.source = hub
        request.token = token
        request.localDirectory = localDirectory
        request.tuning.parts = parts
        request.tuning.splitAbove = splitAbove
        do {
            print(try await ModelPuller().pull(request))
        } catch let error as HubError {
            FileHandle.standardError.write(Data("error: \(error.message)\n".utf8))
            throw ExitCode(1)
        }
    }
}
