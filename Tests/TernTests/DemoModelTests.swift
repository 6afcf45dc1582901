// The built-in demo model: Tern reproduces transformers' greedy continuations token for token.
import Foundation
import Testing
import TernEngine
import TernFormats

@Suite struct DemoModelTests {
    static let directory = Fixtures.repoRoot.appendingPathComponent("Models/tern-demo")

    @Test func greedyContinuationsMatchTransformers() throws {
        let loaded = try LoadedModel(path: Self.directory)
        let prompt = try loaded.chatPrompt()
        let generator = Generator(loaded: loaded, maxModelLength: 256)
        var parameters = SamplingParameters()
        parameters.temperature = 0
        parameters.maxTokens = 32
        parameters.ignoreEOS = true
        for reference in try Fixtures.reference("tern-demo")["prompts"]!.arrayValue! {
            let ids: [Int]
            if let messages = reference["messages"]?.arrayValue {
                ids = prompt.tokenize(try prompt.render(messages: messages))
            } else {
                ids = loaded.tokenizer.encode(reference["text"]!.stringValue!)
            }
            #expect(ids == reference["ids"]!.ints, "prompt tokens as transformers makes them")
            let result = try generator.generate(prompt: ids, parameters: parameters)
            #expect(result.tokens == reference["greedy"]!.ints)
        }
    }

    @Test func demoIsSmallAndHasAChatTemplate() throws {
        let files = try FileManager.default.contentsOfDirectory(at: Self.directory, includingPropertiesForKeys: [.fileSizeKey])
        let bytes = try files.reduce(0) { $0 + (try $1.resourceValues(forKeys: [.fileSizeKey]).fileSize ?? 0) }
        #expect(bytes < 10 << 20)
        #expect(try LoadedModel(path: Self.directory).chatPrompt().template.specialTokens["eos_token"] == "<|im_end|>")
    }
}
