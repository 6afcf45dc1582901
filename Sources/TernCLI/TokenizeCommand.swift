// `tern tokenize` and `tern detokenize`: a model's tokenizer alone (a folder's tokenizer.json or
// tokenizer.model, or a GGUF file's vocabulary, vocab-only files included), to see what it does.
import ArgumentParser
import Foundation
import TernFormats
import TernTokenizer

/// The tokenizer of a model folder or GGUF file, without loading weights.
func loadTokenizer(_ model: ModelOption) throws -> Tokenizer {
    let url = try model.url
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
        throw ValidationError("model path \(url.path) does not exist")
    }
    return isDirectory.boolValue ? try Tokenizer.load(directory: url) : try Tokenizer.load(gguf: url.path)
}

struct TokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "tokenize", abstract: "Print the token ids of a text (with BOS and the like, as prompts get them).")

    @OptionGroup var model: ModelOption
    @Option(help: "The text to tokenize.") var text: String?
    @Option(help: "A UTF-8 file to tokenize instead.") var file: String?
    @Flag(help: "Print one JSON object with ids and their pieces.") var json = false
    @Flag(help: "Leave out BOS and the other tokens the tokenizer adds around a text.") var noSpecialTokens = false

    func validate() throws {
        guard (text == nil) != (file == nil) else { throw ValidationError("give exactly one of --text and --file") }
    }

    func run() throws {
        try reportingErrors {
            let tokenizer = try loadTokenizer(model)
            let input = try text ?? String(contentsOfFile: file!, encoding: .utf8)
            let ids = tokenizer.encode(input, addSpecialTokens: !noSpecialTokens)
            guard json else {
                print(ids.map(String.init).joined(separator: ","))
                return
            }
            let pieces: [JSONValue] = ids.map { .string(tokenizer.token($0) ?? "") }
            print(JSONValue.object(JSONObject([("ids", .array(ids.map { .int($0) })), ("pieces", .array(pieces))])).serialized)
        }
    }
}

struct DetokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "detokenize", abstract: "Print the text of token ids.")

    @OptionGroup var model: ModelOption
    @Option(help: "Comma-separated token ids.") var ids: String
    @Flag(help: "Leave out special tokens (BOS, EOS, chat markers).") var skipSpecialTokens = false

    func run() throws {
        try reportingErrors {
            let tokenizer = try loadTokenizer(model)
            let parsed = try ids.split(separator: ",").map { part -> Int in
                let trimmed = part.trimmingCharacters(in: .whitespaces)
                guard let id = Int(trimmed), id >= 0, tokenizer.token(id) != nil else {
                    throw ValidationError("'\(trimmed)' is not a token id of this tokenizer (0..<\(tokenizer.vocabularySize))")
                }
                return id
            }
            print(tokenizer.decode(parsed, skipSpecialTokens: skipSpecialTokens))
        }
    }
}
