// ChatGLM3, Baichuan2 (7B rotary, 13B ALiBi) and Qwen first generation against what their
// repositories' own code computes (scripts/make_family_fixtures.py): last-position logits, greedy
// continuations through the code's KV cache (Qwen's prompts run past its trained length, so dynamic
// NTK and logn attention are in play), and the ids of their tokenizers. Both sides compute in f32
// over the same stored weights, so logits agree to 1e-3.
import Foundation
import Testing
import TernEngine
import TernFormats
import TernModels

@Suite struct ModelFamilyTests {

    @Test(arguments: Fixtures.familyNames)
    func lastLogitsMatchTheOriginalCode(model name: String) throws {
        let loaded = try LoadedModel(path: Fixtures.family(name))
        let reference = try Fixtures.reference(name)
        let expected = try Fixtures.referenceLogits(name)
        let checked = reference["checked_ids"]!.ints
        var offset = 0
        for prompt in reference["prompts"]!.arrayValue! {
            let ids = prompt["ids"]!.ints
            let cache = loaded.model.makeKVCache(blockSize: 4, blockCount: 64)
            let table = (0..<Int32((ids.count + 3) / 4)).map { $0 * 5 % 64 }
            let row = loaded.model.forward(ForwardBatch([SequenceChunk(tokens: ids, startPosition: 0, blockTable: table)]), cache: cache).rows[0]
            let worst = checked.enumerated().map { abs(row[$1] - expected[offset + $0]) }.max()!
            #expect(worst < 1e-3, "\(name) \(prompt["text"]!.stringValue!): max |Δlogit| = \(worst)")
            offset += checked.count
        }
        #expect(offset == expected.count)
    }

    @Test(arguments: Fixtures.familyNames)
    func greedyContinuationMatchesTheOriginalCode(model name: String) throws {
        let loaded = try LoadedModel(path: Fixtures.family(name))
        let generator = Generator(loaded: loaded, maxModelLength: 256, blockSize: 8)
        var parameters = SamplingParameters()
        parameters.temperature = 0
        parameters.maxTokens = 16
        parameters.ignoreEOS = true
        for prompt in try Fixtures.reference(name)["prompts"]!.arrayValue! {
            let result = try generator.generate(prompt: prompt["ids"]!.ints, parameters: parameters)
            #expect(result.tokens == prompt["greedy"]!.ints, "\(name): \(prompt["text"]!.stringValue!)")
        }
    }

    @Test(arguments: Fixtures.familyNames)
    func tokenizerMatchesTheOriginalCode(model name: String) throws {
        let loaded = try LoadedModel(path: Fixtures.family(name))
        for string in try Fixtures.reference(name)["strings"]!.arrayValue! {
            let text = string["text"]!.stringValue!
            let parse = string["parse_special"]?.boolValue ?? true
            #expect(loaded.tokenizer.encode(text, addSpecialTokens: true, parseSpecialTokens: parse) == string["ids"]!.ints, "\(name): \(text)")
            if let plain = string["ids_without_special"] {
                #expect(loaded.tokenizer.encode(text, addSpecialTokens: false) == plain.ints, "\(name): \(text)")
            }
        }
    }
}

@Suite struct FamilyChatFormatTests {
    /// The reference conversation of each fixture as OpenAI-style messages (ChatGLM3 and Qwen's
    /// helpers take a history and a query; Baichuan2's takes messages).
    static func messages(_ name: String) throws -> [JSONValue] {
        let chat = try Fixtures.reference(name)["chat"]!
        if let messages = chat["messages"]?.arrayValue { return messages }
        var result: [JSONValue] = []
        if let system = chat["system"]?.stringValue { result.append(["role": "system", "content": .string(system)]) }
        for turn in chat["history"]!.arrayValue! {
            if let pair = turn.arrayValue {
                result += [["role": "user", "content": pair[0]], ["role": "assistant", "content": pair[1]]]
            } else {
                result.append(turn)
            }
        }
        return result + [["role": "user", "content": chat["query"]!]]
    }

    @Test(arguments: Fixtures.familyNames)
    func builtInFormatBuildsWhatTheModelsHelperBuilds(model name: String) throws {
        let loaded = try LoadedModel(path: Fixtures.family(name))
        let prompt = try loaded.chatPrompt()
        #expect(prompt.builtIn != nil)
        #expect(try prompt.ids(messages: try Self.messages(name)) == (try Fixtures.reference(name)["chat"]!["ids"]!.ints))
    }

    @Test func familiesStopOnTheirOwnTurnMarkers() throws {
        let glm = try LoadedModel(path: Fixtures.family("chatglm3-6b"))
        for token in ["<|user|>", "<|observation|>"] { #expect(glm.endTokenIds.contains(glm.tokenizer.id(of: token)!)) }
        #expect(glm.endTokenIds.contains(2))
        let qwen = try LoadedModel(path: Fixtures.family("qwen-7b-chat"))
        #expect(Set([151643, 151644, 151645]).isSubset(of: qwen.endTokenIds))
        #expect(try LoadedModel(path: Fixtures.family("baichuan2-13b-chat")).endTokenIds == [2])
    }

    @Test func chatGLMsPrefixWordsAreNotSpecialInText() throws {
        let glm = try LoadedModel(path: Fixtures.family("chatglm3-6b"))
        let sop = glm.tokenizer.id(of: "sop")!
        #expect(!glm.tokenizer.encode("a sop and an eop in a desktop", addSpecialTokens: false).contains(sop))
        #expect(glm.tokenizer.encode("<|user|>", addSpecialTokens: false) == [glm.tokenizer.id(of: "<|user|>")!])
    }
}
