// Building a Tokenizer from Hugging Face's tokenizer.json and tokenizer_config.json.
import Foundation
import TernFormats

extension Tokenizer {
    /// A folder's tokenizer: tokenizer.json, else Qwen's qwen.tiktoken, else SentencePiece's
    /// tokenizer.model (ChatGLM's with its appended special tokens).
    public static func load(directory: URL) throws -> Tokenizer {
        let url = directory.appendingPathComponent("tokenizer.json")
        let configURL = directory.appendingPathComponent("tokenizer_config.json")
        let config = FileManager.default.fileExists(atPath: configURL.path) ? try JSONParser.parse(contentsOf: configURL) : nil
        guard FileManager.default.fileExists(atPath: url.path) else {
            let tiktoken = directory.appendingPathComponent("qwen.tiktoken")
            if FileManager.default.fileExists(atPath: tiktoken.path) { return try Tokenizer(tiktoken: tiktoken.path) }
            let model = directory.appendingPathComponent("tokenizer.model")
            guard FileManager.default.fileExists(atPath: model.path) else {
                throw FormatError("no tokenizer.json, qwen.tiktoken or tokenizer.model in \(directory.path)")
            }
            if config?["tokenizer_class"]?.stringValue == "ChatGLMTokenizer" { return try Tokenizer(chatGLM: model.path) }
            return try Tokenizer(sentencePiece: model.path, config: config)
        }
        do {
            return try Tokenizer(json: try JSONParser.parse(contentsOf: url), config: config)
        } catch let error as FormatError {
            throw FormatError(error.message.hasPrefix(url.path) ? error.message : "\(url.path): \(error.message)")
        }
    }

    /// The text of a special token entry of tokenizer_config.json: a string or {"content": ...}.
    static func specialTokenText(_ value: JSONValue?) -> String? {
        value?.stringValue ?? value?["content"]?.stringValue
    }

    public convenience init(json: JSONValue, config: JSONValue?) throws {
        guard let modelJSON = json["model"] else { throw FormatError("no \"model\" section") }
        let modelType = modelJSON["type"]?.stringValue ?? "BPE"
        guard modelType == "BPE" else { throw FormatError("unsupported tokenizer model '\(modelType)' (supported: BPE)") }
        guard let vocabJSON = modelJSON["vocab"]?.objectValue else { throw FormatError("BPE model without a vocab") }

        let added: [AddedToken] = try (json["added_tokens"]?.arrayValue ?? []).map { entry in
            guard let id = entry["id"]?.intValue, let content = entry["content"]?.stringValue else {
                throw FormatError("added_tokens entry without id or content")
            }
            return AddedToken(id: id, content: content, special: entry["special"]?.boolValue ?? false,
                              leftStrip: entry["lstrip"]?.boolValue ?? false, rightStrip: entry["rstrip"]?.boolValue ?? false)
        }
        var tokens = [String](repeating: "", count: vocabJSON.count)
        for (token, idValue) in vocabJSON.pairs {
            guard let id = idValue.intValue, id >= 0, id < 10_000_000 else { throw FormatError("bad id for token '\(token)'") }
            if id >= tokens.count { tokens += [String](repeating: "", count: id + 1 - tokens.count) }
            tokens[id] = token
        }
        let mergePairs: [(String, String)] = try (modelJSON["merges"]?.arrayValue ?? []).map { merge in
            if let pair = merge.arrayValue?.compactMap(\.stringValue), pair.count == 2 { return (pair[0], pair[1]) }
            if let text = merge.stringValue, let space = text.firstIndex(of: " ") {
                return (String(text[..<space]), String(text[text.index(after: space)...]))
            }
            throw FormatError("bad merge entry \(merge)")
        }
        let vocab = Dictionary(tokens.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        let model = BPEModel(
            tokens: tokens, merges: BPEModel.rankedMerges(mergePairs, vocab: vocab),
            unknownId: modelJSON["unk_token"]?.stringValue.flatMap { vocab[$0] },
            byteFallback: modelJSON["byte_fallback"]?.boolValue ?? false,
            fuseUnknown: modelJSON["fuse_unk"]?.boolValue ?? false,
            ignoreMerges: modelJSON["ignore_merges"]?.boolValue ?? false)

        let idOf = { (text: String) -> Int? in added.first { $0.content == text }?.id ?? vocab[text] }
        let (prefix, suffix) = try Self.template(json["post_processor"], idOf: idOf)
        self.init(normalizer: try Normalizer(json: json["normalizer"]),
                  preTokenizer: try PreTokenizer(json: json["pre_tokenizer"]),
                  model: model, decoder: try TokenDecoder(json: json["decoder"]), addedTokens: added,
                  prefixIds: prefix, suffixIds: suffix,
                  bosToken: Self.specialTokenText(config?["bos_token"]),
                  eosToken: Self.specialTokenText(config?["eos_token"]))
    }

    /// The ids the post-processor adds before and after a single sequence.
    private static func template(_ json: JSONValue?, idOf: (String) -> Int?) throws -> ([Int], [Int]) {
        guard let json, !json.isNull else { return ([], []) }
        switch json["type"]?.stringValue ?? "" {
        case "TemplateProcessing":
            var prefix: [Int] = [], suffix: [Int] = []
            var seenSequence = false
            for item in json["single"]?.arrayValue ?? [] {
                if item["Sequence"] != nil { seenSequence = true; continue }
                guard let name = item["SpecialToken"]?["id"]?.stringValue else { continue }
                let ids = json["special_tokens"]?[name]?["ids"]?.arrayValue?.compactMap(\.intValue) ?? idOf(name).map { [$0] } ?? []
                if seenSequence { suffix += ids } else { prefix += ids }
            }
            return (prefix, suffix)
        case "Sequence":
            var prefix: [Int] = [], suffix: [Int] = []
            for step in json["processors"]?.arrayValue ?? [] {
                let (p, s) = try template(step, idOf: idOf)
                prefix += p
                suffix += s
            }
            return (prefix, suffix)
        case "ByteLevel":
            return ([], [])
        case let other:
            throw FormatError("unsupported post_processor type '\(other)'")
        }
    }
}
