// Tokenizer ids and decoding against Hugging Face `tokenizers` and llama.cpp's vocab test vectors.
import Foundation
import Testing
@testable import TernTokenizer

@Suite struct TokenizerReferenceTests {
    @Test(arguments: ["llama2-spm", "llama3-bpe", "qwen2-bpe"])
    func idsMatchHuggingFace(model: String) throws {
        let tokenizer = try Tokenizer.load(directory: Fixtures.model(model))
        let reference = try Fixtures.reference(model)
        for entry in reference["strings"]!.arrayValue! {
            let text = entry["text"]!.stringValue!
            #expect(tokenizer.encode(text, addSpecialTokens: false) == entry["ids"]!.ints, "\(model): \(text.debugDescription)")
            #expect(tokenizer.encode(text, addSpecialTokens: true) == entry["ids_with_special"]!.ints, "\(model): \(text.debugDescription)")
            #expect(tokenizer.decode(entry["ids"]!.ints) == entry["decoded"]!.stringValue!, "\(model): \(text.debugDescription)")
        }
    }

    @Test(arguments: ["llama2-spm", "llama3-bpe", "qwen2-bpe"])
    func streamingDecodeNeverSplitsCharacters(model: String) throws {
        let tokenizer = try Tokenizer.load(directory: Fixtures.model(model))
        let text = "床前明月光 🦙🔥 naïve"
        let ids = tokenizer.encode(text, addSpecialTokens: false)
        var stream = StreamingDetokenizer(tokenizer: tokenizer, atSequenceStart: true)
        var pieces: [String] = []
        for id in ids { pieces.append(stream.append(id)) }
        pieces.append(stream.finish())
        #expect(pieces.joined() == text)
        #expect(!pieces.joined().contains("\u{FFFD}"))
        // A character of several byte tokens appears whole, in one piece.
        #expect(pieces.contains { $0.contains("🦙") })
    }
}

@Suite struct GGUFVocabularyTests {
    /// llama.cpp's test strings and expected ids (without BOS) for a real vocabulary.
    static func vectors(_ name: String) throws -> [(String, [Int])] {
        let inputs = try String(contentsOf: Fixtures.vocab.appendingPathComponent("\(name).gguf.inp"), encoding: .utf8)
            .components(separatedBy: "\n__ggml_vocab_test__\n")
        let outputs = try String(contentsOf: Fixtures.vocab.appendingPathComponent("\(name).gguf.out"), encoding: .utf8)
            .components(separatedBy: "\n")
        // The input file ends with a separator, so it yields one empty string more than there are outputs.
        return zip(inputs, outputs).map { text, ids in (text, ids.split(separator: " ").compactMap { Int($0) }) }
    }

    @Test(arguments: ["ggml-vocab-llama-spm", "ggml-vocab-llama-bpe", "ggml-vocab-qwen2", "ggml-vocab-gpt-2"])
    func matchesLlamaCppVectors(name: String) throws {
        let tokenizer = try Tokenizer.load(gguf: Fixtures.vocab.appendingPathComponent("\(name).gguf").path)
        let vectors = try Self.vectors(name)
        #expect(vectors.count > 30)
        for (text, expected) in vectors {
            #expect(tokenizer.encode(text, addSpecialTokens: false) == expected, "\(name): \(text.debugDescription)")
        }
    }

    @Test func truncatedGGUFIsAnError() throws {
        let source = Fixtures.vocab.appendingPathComponent("ggml-vocab-qwen2.gguf")
        let data = try Data(contentsOf: source).prefix(100_000)
        let url = try Fixtures.temporaryDirectory().appendingPathComponent("cut.gguf")
        try data.write(to: url)
        #expect(throws: (any Error).self) { try Tokenizer.load(gguf: url.path) }
    }
}
