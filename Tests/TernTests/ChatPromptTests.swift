// The model's template end to end: rendered text and token ids equal transformers' apply_chat_template.
import Foundation
import Testing
import TernEngine
import TernFormats
import TernTemplates

@Suite struct ChatPromptTests {
    @Test(arguments: ["llama3-bpe", "qwen2-bpe"])
    func idsMatchApplyChatTemplate(model: String) throws {
        let loaded = try LoadedModel(path: Fixtures.model(model))
        let chat = try #require(try Fixtures.reference(model)["chat"])
        let prompt = try loaded.chatPrompt()
        let text = try prompt.render(messages: chat["messages"]!.arrayValue!)
        #expect(text == chat["text"]!.stringValue!)
        #expect(prompt.tokenize(text) == chat["ids"]!.ints, "no second BOS, special tokens recognised")
    }

    @Test func modelWithoutTemplateExplainsWhatToDo() throws {
        let loaded = try LoadedModel(path: Fixtures.model("llama2-spm"))
        #expect(throws: EngineError("the model has no chat template; give one with --chat-template FILE")) { try loaded.chatPrompt() }
        let file = Fixtures.root.appendingPathComponent("templates/llama2.jinja").path
        let prompt = try loaded.chatPrompt(overrideFile: file)
        let text = try prompt.render(messages: [.object(JSONObject([("role", .string("user")), ("content", .string("hi"))]))])
        #expect(text == "<s>[INST] hi [/INST]\n", "the override gets the tokenizer's BOS text")
        #expect(prompt.tokenize(text).filter { $0 == 1 }.count == 1)
    }

    @Test func namedTemplatesArePickedByName() throws {
        let directory = try Fixtures.temporaryDirectory()
        let config = #"{"eos_token": "</s>", "chat_template": [{"name": "default", "template": "D{{ eos_token }}"}, {"name": "tool_use", "template": "T{{ tools | length }}"}]}"#
        try config.write(to: directory.appendingPathComponent("tokenizer_config.json"), atomically: true, encoding: .utf8)
        let template = try #require(try ChatTemplate.load(directory: directory))
        #expect(try template.render(messages: [], addGenerationPrompt: false) == "D</s>")
        #expect(try template.render(messages: [], addGenerationPrompt: false, tools: [.null, .null]) == "T2", "tools pick tool_use")
    }

    @Test func templateCommandPrintsWhatTheModelReceives() throws {
        let chat = try #require(try Fixtures.reference("qwen2-bpe")["chat"])
        let file = try Fixtures.temporaryDirectory().appendingPathComponent("messages.json")
        var messages = ""
        if case .array(let list) = chat["messages"]! {
            messages = "[" + list.map { m in
                "{\"role\": \"\(m["role"]!.stringValue!)\", \"content\": \"\(m["content"]!.stringValue!)\"}"
            }.joined(separator: ",") + "]"
        }
        try messages.write(to: file, atomically: true, encoding: .utf8)
        let result = try CLITests.run(["template", "--model", Fixtures.model("qwen2-bpe").path, "--messages", file.path,
                                       "--add-generation-prompt", "--ids"])
        #expect(result.status == 0, "\(result.stderr)")
        let ids = chat["ids"]!.ints.map(String.init).joined(separator: " ")
        #expect(result.stdout == chat["text"]!.stringValue! + "\n" + ids + "\n")
    }

    @Test func chatCommandAnswersEachTurn() throws {
        let process = Process()
        process.executableURL = CLITests.binary
        process.arguments = ["chat", "--model", Fixtures.model("qwen2-bpe").path, "--max-tokens", "4", "--temperature", "0", "--ignore-eos"]
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = Pipe()
        try process.run()
        input.fileHandleForWriting.write(Data("hello\n写一首诗\n/exit\n".utf8))
        try input.fileHandleForWriting.close()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(text.split(separator: "\n", omittingEmptySubsequences: false).count >= 3, "two answers, each ended by a newline: \(text.debugDescription)")
    }
}

@Suite struct ChatMLStopTests {
    /// Yi-Chat names 2 as its EOS but ends turns with <|im_end|> (7): a ChatML template makes that
    /// token stop generation too; without one, only the configured end tokens do.
    @Test func aChatMLTemplateAddsItsTurnEnd() throws {
        let folder = try Fixtures.temporaryDirectory().appendingPathComponent("qwen2-chatml")
        try FileManager.default.copyItem(at: Fixtures.model("qwen2-bpe"), to: folder)
        let template = folder.appendingPathComponent("chat_template.jinja")
        try FileManager.default.removeItem(at: template)
        let plain = try LoadedModel(path: folder)
        let turnEnd = try #require(plain.tokenizer.id(of: "<|im_end|>"))
        #expect(!plain.endTokenIds.contains(turnEnd))
        try FileManager.default.copyItem(at: Fixtures.root.appendingPathComponent("templates/yi.jinja"), to: template)
        let chat = try LoadedModel(path: folder)
        #expect(chat.endTokenIds.contains(turnEnd) && chat.endTokenIds.isSuperset(of: plain.endTokenIds))
    }
}
