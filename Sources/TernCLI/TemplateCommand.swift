// `tern template`: shows exactly what the model receives for a conversation.
import ArgumentParser
import Foundation
import TernEngine
import TernFormats

struct TemplateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "template", abstract: "Render a conversation with the model's chat template.")

    @OptionGroup var model: ModelOption
    @Option(help: "JSON file with a list of messages ({\"role\", \"content\"}).") var messages: String
    @Option(help: "JSON file with a list of tools (OpenAI function schemas).") var tools: String?
    @Flag(name: .customLong("add-generation-prompt"), help: "End with the start of the assistant's turn.") var addGenerationPrompt = false
    @Option(name: .customLong("chat-template"), help: "Use this Jinja template file instead of the model's.") var chatTemplate: String?
    @Flag(help: "Print the token ids after the text.") var ids = false

    func run() throws {
        try reportingErrors {
            let loaded = try LoadedModel(path: try model.url)
            let prompt = try loaded.chatPrompt(overrideFile: chatTemplate)
            let conversation = try Self.jsonList(messages, what: "messages")
            let rendered = try prompt.render(messages: conversation, addGenerationPrompt: addGenerationPrompt,
                                             tools: try tools.map { try Self.jsonList($0, what: "tools") })
            print(rendered)
            guard ids else { return }
            // A built-in format builds the ids itself; the text above is its display form.
            let tokens = try prompt.builtIn?.tokens(messages: conversation, addGenerationPrompt: addGenerationPrompt, tokenizer: loaded.tokenizer)
                ?? prompt.tokenize(rendered)
            print(tokens.map(String.init).joined(separator: " "))
        }
    }

    static func jsonList(_ path: String, what: String) throws -> [JSONValue] {
        let value = try JSONParser.parse(contentsOf: URL(fileURLWithPath: path))
        guard let list = value.arrayValue ?? value[what]?.arrayValue else {
            throw ValidationError("\(path) must hold a JSON list of \(what) (or an object with a \"\(what)\" list)")
        }
        return list
    }
}
