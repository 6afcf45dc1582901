// Models written by `tern quantize` (GGUF) and read back: the same network as the folder, checked
// against transformers' logits; the tokenizer as tokenizers encodes; corrupt files are clear errors.
import Foundation
import Testing
import TernEngine
import TernFormats
import TernModels
@testable import TernTokenizer

@Suite struct GGUFModelTests {
    static func written(_ name: String, _ quantization: Quantization) throws -> URL {
        let url = try Fixtures.temporaryDirectory().appendingPathComponent("\(name)-\(quantization.rawValue).gguf")
        try ModelQuantizer.write(directory: Fixtures.model(name), options: LoadOptions(quantization: quantization), output: url.path)
        return url
    }

    @Test(arguments: Fixtures.modelNames)
    func unquantizedGGUFMatchesTransformers(model name: String) throws {
        // LLaMA files re-order q/k rows and store LLaMA-3 scaling as factors: both must come back exact.
        let loaded = try LoadedModel(path: try Self.written(name, .none))
        try ModelReferenceTests.expectReferenceLogits(loaded, reference: name)
        try ModelReferenceTests.expectReferenceGreedy(loaded, reference: name)
        let folder = try LoadedModel(path: Fixtures.model(name))
        #expect(loaded.endTokenIds == folder.endTokenIds)
        #expect(loaded.model.config.slidingWindow == folder.model.config.slidingWindow)
        #expect(loaded.model.config.tieWordEmbeddings == folder.model.config.tieWordEmbeddings)
    }

    @Test(arguments: ["llama2-spm", "llama3-bpe", "qwen2-bpe"])
    func tokenizerFromGGUFMatchesHuggingFace(model name: String) throws {
        let tokenizer = try LoadedModel(path: try Self.written(name, .q8_0)).tokenizer
        for entry in try Fixtures.reference(name)["strings"]!.arrayValue! {
            let text = entry["text"]!.stringValue!
            #expect(tokenizer.encode(text, addSpecialTokens: false) == entry["ids"]!.ints, "\(name): \(text.debugDescription)")
            #expect(tokenizer.encode(text, addSpecialTokens: true) == entry["ids_with_special"]!.ints, "\(name): \(text.debugDescription)")
            #expect(tokenizer.decode(entry["ids"]!.ints) == entry["decoded"]!.stringValue!, "\(name): \(text.debugDescription)")
        }
    }

    @Test(arguments: [Quantization.q8_0, .q4_0, .q4_k])
    func quantizedGGUFIsTheModelQuantizedAtLoad(quantization: Quantization) throws {
        // The file holds exactly the blocks quantizing at load makes, so logits agree bit for bit.
        let name = "llama3-bpe"
        let fromFile = try LoadedModel(path: try Self.written(name, quantization))
        let atLoad = try LoadedModel(path: Fixtures.model(name), options: LoadOptions(quantization: quantization))
        #expect(fromFile.model.weightTypes == atLoad.model.weightTypes)
        let ids = try Fixtures.reference(name)["prompts"]!.arrayValue![0]["ids"]!.ints
        #expect(QuantizedModelTests.logits(fromFile.model, ids) == QuantizedModelTests.logits(atLoad.model, ids))
        let template = try fromFile.chatPrompt()
        #expect(template.template.specialTokens["eos_token"] == (try atLoad.chatPrompt()).template.specialTokens["eos_token"])
    }

    @Test func truncatedModelIsAClearError() throws {
        let url = try Self.written("qwen2-bpe", .q8_0)
        let data = try Data(contentsOf: url)
        let cut = url.deletingLastPathComponent().appendingPathComponent("cut.gguf")
        try data.prefix(data.count - 1000).write(to: cut)
        #expect { try LoadedModel(path: cut) } throws: { "\($0)".contains("truncated or corrupt") }
        try Data("GGUF but not really".utf8).write(to: cut)
        #expect { try LoadedModel(path: cut) } throws: { "\($0)".contains(cut.path) }
    }

    @Test func unsupportedTensorTypeIsNamed() throws {
        // Rewrite the first tensor's type code as IQ2_XXS (16), which Tern does not read: loading must say which tensor and type.
        let url = try Self.written("qwen2-bpe", .q8_0)
        var data = try Data(contentsOf: url)
        let file = try GGUFFile(path: url.path)
        let name = Array("token_embd.weight".utf8)
        let nameStart = data.firstRange(of: Data(name))!.upperBound
        let typeOffset = nameStart + 4 + 8 * 2  // dimension count, then two sizes
        #expect(file.tensors["token_embd.weight"]?.dtype == .q8_0 && data[typeOffset] == 8)
        data[typeOffset] = 16
        try data.write(to: url)
        #expect { try LoadedModel(path: url) } throws: { "\($0)".contains("token_embd.weight' is IQ2_XXS") && "\($0)".contains("Q6_K") }
    }
}
