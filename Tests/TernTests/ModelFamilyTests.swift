// ChatGLM3, Baichuan2 (7B rotary, 13B ALiBi) and Qwen first generation against what their
// repositories' own code computes (scripts/make_family_fixtures.py): last-position logits, greedy
// continuations through the code's KV cache (Qwen's prompts run past its trained length, so dynamic
// NTK and logn attention are in play), and the ids of their tokenizers. Both sides compute in f32
// over the same stored weights, so logits agree to 1e-3.
import Foundation
import Testing
import TernEngine
import TernFormats
@testable import TernModels

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
            // Logits to 1e-3 check the arithmetic, so the cache keeps f32 (KVCacheTypeTests checks the others).
            let cache = loaded.model.makeKVCache(blockSize: 4, blockCount: 64, type: .f32)
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
        try ModelReferenceTests.expectReferenceGreedy(try LoadedModel(path: Fixtures.family(name)), reference: name)
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

    /// An OpenAI request with tools, an earlier call (arguments as JSON text) and its result gives
    /// the ids ChatGLM3's own build_chat_input gives the same conversation in its history form.
    @Test func chatGLM3ToolsBuildWhatItsHelperBuilds() throws {
        let loaded = try LoadedModel(path: Fixtures.family("chatglm3-6b"))
        let reference = try Fixtures.reference("chatglm3-6b-tools")
        let ids = try BuiltInChatFormat.chatGLM3.tokens(messages: reference["openai"]!["messages"]!.arrayValue!, addGenerationPrompt: true,
                                                        tokenizer: loaded.tokenizer, tools: reference["openai"]!["tools"]!.arrayValue!)
        #expect(ids == reference["ids"]!.ints)
        #expect(throws: EngineError.self) {
            try BuiltInChatFormat.baichuan2.tokens(messages: [["role": "user", "content": "hi"]], addGenerationPrompt: true,
                                                   tokenizer: loaded.tokenizer, tools: reference["openai"]!["tools"]!.arrayValue!)
        }
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

@Suite struct FamilyBadInputTests {
    @Test func aPickleThatWouldRunCodeIsRefusedAndNeverRun() throws {
        let marker = "/tmp/tern-pickle-ran"
        try? FileManager.default.removeItem(atPath: marker)
        let error = #expect(throws: FormatError.self) { try CheckpointFolder(directory: Fixtures.family("malicious-pickle")) }
        #expect(error?.message.contains("posix.system") == true, "\(String(describing: error))")
        #expect(error?.message.contains("pytorch_model.bin") == true)
        #expect(!FileManager.default.fileExists(atPath: marker))
    }

    @Test func aBinThatIsNotAZipIsNamedAndRefused() throws {
        let folder = try Fixtures.temporaryDirectory()
        try FileManager.default.copyItem(at: Fixtures.family("baichuan2-7b-chat").appendingPathComponent("config.json"),
                                         to: folder.appendingPathComponent("config.json"))
        try Data("not a zip archive at all".utf8).write(to: folder.appendingPathComponent("pytorch_model.bin"))
        let error = #expect(throws: FormatError.self) { try CheckpointFolder(directory: folder) }
        #expect(error?.message.contains("pytorch_model.bin is not a zip archive") == true, "\(String(describing: error))")
    }

    @Test func aConfigMixingFamiliesIsRefused() throws {
        let json = try JSONParser.parse(#"{"architectures": ["ChatGLMModel"], "model_type": "qwen", "hidden_size": 64}"#)
        let error = #expect(throws: FormatError.self) { try ModelConfig(json: json) }
        #expect(error?.message.contains("mixes families") == true)
    }

    @Test func baichuanTakesItsPositionsFromTheModelingFileItShips() throws {
        let json = try JSONParser.parse(#"{"architectures": ["BaichuanForCausalLM"], "model_type": "baichuan", "hidden_size": 4096, "intermediate_size": 11008, "num_hidden_layers": 2, "num_attention_heads": 32, "vocab_size": 125696}"#)
        #expect(try ModelConfig(json: json).positionEncoding == .rotary)  // the 7B shape
        #expect(try ModelConfig(json: json, modelingCode: "def _gen_alibi_mask(tensor, n_head, max_pos): ...").positionEncoding == .alibi)
        let code = "class RotaryEmbedding(torch.nn.Module): ...\\nclass NormHead(nn.Module): ..."
        let config = try ModelConfig(json: json, modelingCode: code)
        #expect(config.positionEncoding == .rotary && config.normalizedHead)
        #expect(config.positionEncodingReason?.contains("modeling_baichuan.py") == true)
    }

    @Test func alibiSlopesFollowBaichuansFormulaFor40Heads() {
        // Baichuan2-13B: 2^-(h+1)/4 for the first 32 heads, then 2^-(2k+1)/8 (values from _get_interleave(40)).
        let slopes = ALiBi.slopes(heads: 40)
        #expect(slopes.count == 40)
        #expect(abs(slopes[0] - 0.840896) < 1e-6 && abs(slopes[31] - 0.00390625) < 1e-9)
        let tail: [Float] = [0.917004, 0.771105, 0.648420, 0.545254, 0.458502, 0.385553, 0.324210, 0.272627]
        #expect(zip(slopes[32...], tail).allSatisfy { abs($0 - $1) < 1e-6 })
    }
}

/// llama.cpp's converter output of the same checkpoints (scripts/make_family_gguf.py, bf16).
@Suite struct FamilyGGUFTests {
    static func gguf(_ name: String) throws -> URL { try Fixtures.gunzipped("families-gguf/\(name).gguf.gz") }

    @Test(arguments: Fixtures.familyNames)
    func llamaCppsConversionGivesTheOriginalsGreedyTokens(model name: String) throws {
        try Self.expectReferenceGreedy(try LoadedModel(path: try Self.gguf(name)), name: name)
    }

    /// The reference's greedy tokens; Qwen's only within its trained length (8 positions here), as
    /// GGUF files carry no seq_length and so run without dynamic NTK and logn (as llama.cpp does).
    static func expectReferenceGreedy(_ loaded: LoadedModel, name: String) throws {
        try ModelReferenceTests.expectReferenceGreedy(loaded, reference: name, positions: name.hasPrefix("qwen") ? 8 : nil)
    }

    @Test(arguments: Fixtures.familyNames)
    func llamaCppsVocabularyEncodesAsTheOriginalTokenizer(model name: String) throws {
        let loaded = try LoadedModel(path: try Self.gguf(name))
        for string in try Fixtures.reference(name)["strings"]!.arrayValue! {
            let text = string["text"]!.stringValue!
            let parse = string["parse_special"]?.boolValue ?? true
            // llama.cpp's files add no [gMASK] sop prefix, so ChatGLM compares the ids without it.
            let expected = (string["ids_without_special"] ?? string["ids"]!).ints
            #expect(loaded.tokenizer.encode(text, addSpecialTokens: false, parseSpecialTokens: parse) == expected, "\(name): \(text)")
        }
    }

    @Test(arguments: Fixtures.familyNames)
    func ternQuantizeWritesFilesThatRunAsTheFolder(model name: String) throws {
        let folder = try Fixtures.temporaryDirectory()
        for quantization in [Quantization.none, .q8_0] {
            let file = folder.appendingPathComponent("\(name)-\(quantization).gguf").path
            try ModelQuantizer.write(directory: Fixtures.family(name), options: LoadOptions(quantization: quantization), output: file)
            let written = try LoadedModel(path: URL(fileURLWithPath: file))
            #expect(try written.chatPrompt().ids(messages: try FamilyChatFormatTests.messages(name)) == (try Fixtures.reference(name)["chat"]!["ids"]!.ints))
            if quantization == .none {
                try Self.expectReferenceGreedy(written, name: name)
            } else {
                // Quantized at load or read quantized from the file: the same weights, the same tokens.
                let atLoad = try LoadedModel(path: Fixtures.family(name), options: LoadOptions(quantization: quantization))
                var parameters = SamplingParameters()
                parameters.temperature = 0
                parameters.maxTokens = 6
                parameters.ignoreEOS = true
                let prompt = try Fixtures.reference(name)["prompts"]!.arrayValue![0]["ids"]!.ints
                let fromFile = try Generator(loaded: written, maxModelLength: 64, blockSize: 8).generate(prompt: prompt, parameters: parameters)
                let loadedNow = try Generator(loaded: atLoad, maxModelLength: 64, blockSize: 8).generate(prompt: prompt, parameters: parameters)
                #expect(fromFile.tokens == loadedNow.tokens, "\(name)")
            }
        }
    }

    @Test func builtInChatFormatsWorkFromGGUFToo() throws {
        for name in Fixtures.familyNames {
            let loaded = try LoadedModel(path: try Self.gguf(name))
            #expect(try loaded.chatPrompt().ids(messages: try FamilyChatFormatTests.messages(name)) == (try Fixtures.reference(name)["chat"]!["ids"]!.ints), "\(name)")
        }
    }
}

@Suite struct LongContextTests {
    @Test func qwensNTKAlphaFollowsThePromptAndKeysTheirCacheBlocks() throws {
        let config = try LoadedModel(path: Fixtures.family("qwen-7b-chat")).model.config
        // seq_length 8: alpha 1 up to 8 tokens, 3 up to 16, 7 up to 32 (2^ceil(log2(L/8)+1) - 1).
        #expect([5, 8, 9, 16, 17, 32, 33].map { config.longContext!.ntkAlpha(promptLength: $0) } == [1, 1, 3, 3, 7, 7, 15])
        #expect(config.kvCacheVariant(promptLength: 8) == 0 && config.kvCacheVariant(promptLength: 9) == 3)
        // The same tokens under another alpha hash to other blocks, so the prefix cache never mixes them.
        let pool = BlockPool(blockSize: 4, blockCount: 8)
        let tokens = Array(0..<8)
        #expect(pool.blockHashes(tokens) != pool.blockHashes(tokens, seed: config.kvCacheVariant(promptLength: 20)))
        // logn scales queries from position seq_length on: log(p + 1) / log(8).
        #expect(config.longContext!.queryScale(position: 7) == 1)
        #expect(abs(config.longContext!.queryScale(position: 8) - Float(log(9.0) / log(8.0))) < 1e-6)
    }

    @Test func aChatTemplateFileOverridesTheBuiltInFormat() throws {
        let loaded = try LoadedModel(path: Fixtures.family("qwen-7b-chat"))
        let file = try Fixtures.temporaryDirectory().appendingPathComponent("t.jinja")
        try "{% for m in messages %}{{ m.content }}{% endfor %}".write(to: file, atomically: true, encoding: .utf8)
        let prompt = try loaded.chatPrompt(overrideFile: file.path)
        #expect(prompt.builtIn == nil)
        #expect(try prompt.ids(messages: [["role": "user", "content": "hello"]]) == loaded.tokenizer.encode("hello"))
    }
}
