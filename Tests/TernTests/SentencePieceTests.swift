// SentencePiece's tokenizer.model read without tokenizer.json (as Yi, Baichuan2 and LLaMA 2 ship
// it): ids equal to the `sentencepiece` library's on llama.cpp's SPM test strings and Chinese text
// (scripts/make_sentencepiece_fixture.py), text back on decoding, and clear errors for other files;
// unigram models, the NFKC character map and whitespace collapsing against the library too.
import Foundation
import Testing
import TernFormats
import TernTokenizer

@Suite struct SentencePieceTests {
    static let folder = Fixtures.root.appendingPathComponent("sentencepiece")

    @Test func idsEqualTheSentencePieceLibrarys() throws {
        let tokenizer = try Tokenizer.load(directory: Self.folder)
        let reference = try JSONParser.parse(contentsOf: Self.folder.appendingPathComponent("vectors.json"))
        let bos = reference["bos_id"]!.intValue!
        var mismatches: [String] = []
        for vector in reference["vectors"]!.arrayValue! {
            let text = vector["text"]!.stringValue!, want = vector["ids"]!.ints
            let ids = tokenizer.encode(text)
            if ids != [bos] + want { mismatches.append("\(text.debugDescription): \(ids.dropFirst()) vs \(want)") }
            #expect(tokenizer.decode(ids, skipSpecialTokens: true) == text, "\(text.debugDescription) decodes back")
        }
        #expect(mismatches.isEmpty, "\(mismatches.count) strings differ: \(mismatches.prefix(3))")
    }

    /// Unigram (with byte fallback, and with unknown tokens), NFKC's character map and
    /// remove_extra_whitespaces: ids and decoded text as the `sentencepiece` library gives them.
    @Test(arguments: ["unigram-nfkc", "unigram-unknown", "bpe-nfkc"])
    func theRestOfTheFormatMatchesTheLibrary(variant: String) throws {
        let folder = Self.folder.appendingPathComponent(variant)
        let tokenizer = try Tokenizer.load(directory: folder)
        let reference = try JSONParser.parse(contentsOf: folder.appendingPathComponent("vectors.json"))
        var mismatches: [String] = []
        for vector in reference["vectors"]!.arrayValue! {
            let text = vector["text"]!.stringValue!
            let ids = tokenizer.encode(text, addSpecialTokens: false, parseSpecialTokens: false)
            if ids != vector["ids"]!.ints { mismatches.append("\(text.debugDescription): \(ids) vs \(vector["ids"]!.ints)") }
            // The library writes an unknown token as " ⁇ "; Tern, as llama.cpp, as its piece "<unk>".
            if !ids.contains(0) { #expect(tokenizer.decode(ids) == vector["decoded"]!.stringValue!, "\(variant) \(text.debugDescription)") }
        }
        #expect(mismatches.isEmpty, "\(variant): \(mismatches.count) strings differ: \(mismatches.prefix(3))")
    }

    @Test func otherFilesAreClearErrors() throws {
        let folder = try Fixtures.temporaryDirectory()
        try Data("not a protobuf at all, just text".utf8).write(to: folder.appendingPathComponent("tokenizer.model"))
        #expect(throws: FormatError.self) { _ = try Tokenizer.load(directory: folder) }
        do { _ = try Tokenizer.load(directory: folder) } catch { #expect("\(error)".contains("tokenizer.model: not a SentencePiece model")) }
        let empty = try Fixtures.temporaryDirectory()
        do { _ = try Tokenizer.load(directory: empty) } catch { #expect("\(error)".contains("no tokenizer.json, qwen.tiktoken or tokenizer.model")) }
    }
}
