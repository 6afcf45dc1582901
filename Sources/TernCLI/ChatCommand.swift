// `tern chat`: an interactive terminal conversation that keeps the history and streams answers.
import ArgumentParser
import Foundation
import TernEngine
import TernFormats

struct ChatCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chat", abstract: "Chat with a model in the terminal (/reset clears the history, /exit quits).")

    @OptionGroup var model: ModelOption
    @OptionGroup var sampling: SamplingOptions
    @OptionGroup var loading: LoadingOptions
    @Option(help: "A system prompt for the conversation.") var system: String?
    @Option(name: .customLong("chat-template"), help: "Use this Jinja template file instead of the model's.") var chatTemplate: String?

    func run() throws {
        try reportingErrors {
            let loaded = try LoadedModel(path: try model.url, options: loading.options)
            let prompt = try loaded.chatPrompt(overrideFile: chatTemplate)
            let generator = sampling.generator(loaded)
            let parameters = sampling.parameters(loaded, defaultMaxTokens: 512)
            let start: [JSONValue] = system.map { [Self.message("system", $0)] } ?? []
            var history = start
            FileHandle.standardError.write(Data("Chatting with \(loaded.name). /reset clears the history, /exit quits.\n".utf8))
            while true {
                FileHandle.standardError.write(Data("> ".utf8))
                guard let line = readLine() else { break }
                let input = line.trimmingCharacters(in: .whitespaces)
                if input == "/exit" { break }
                if input == "/reset" { history = start; continue }
                if input.isEmpty { continue }
                history.append(Self.message("user", input))
                do {
                    let ids = try prompt.ids(messages: history)
                    let result = try generator.generate(prompt: ids, parameters: parameters) { text in
                        FileHandle.standardOutput.write(Data(text.utf8))
                    }
                    print("")
                    history.append(Self.message("assistant", result.text))
                } catch let error as EngineError {
                    // A turn that cannot run (say, the history outgrew the context) leaves the chat usable.
                    history.removeLast()
                    FileHandle.standardError.write(Data("error: \(error.message) (try /reset)\n".utf8))
                }
            }
        }
    }

    static func message(_ role: String, _ content: String) -> JSONValue {
        .object(JSONObject([("role", .string(role)), ("content", .string(content))]))
    }
}
