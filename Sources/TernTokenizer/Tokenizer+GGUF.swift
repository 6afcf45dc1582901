// Building a Tokenizer from a GGUF file's tokenizer.ggml.* metadata (llama.cpp's form).
import TernFormats

extension Tokenizer {
    /// GGUF token types: control and user-defined tokens are matched in text like added tokens.
    private enum TokenType: Int { case normal = 1, unknown = 2, control = 3, userDefined = 4, unused = 5, byte = 6 }

    public static func load(gguf path: String) throws -> Tokenizer {
        let metadata = try GGUFMetadata(path: path)
        do { return try Tokenizer(gguf: metadata) } catch let error as FormatError {
            throw FormatError("\(path): \(error.message)")
        }
    }

    public convenience init(gguf metadata: GGUFMetadata) throws {
        guard let kind = metadata["tokenizer.ggml.model"]?.stringValue else { throw FormatError("no tokenizer.ggml.model") }
        guard let tokens = metadata["tokenizer.ggml.tokens"]?.arrayValue?.compactMap(\.stringValue), !tokens.isEmpty else {
            throw FormatError("no tokenizer.ggml.tokens")
        }
        let types = metadata["tokenizer.ggml.token_type"]?.arrayValue?.compactMap(\.intValue) ?? []
        let vocab = Dictionary(tokens.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        let added = types.enumerated().compactMap { id, type -> AddedToken? in
            // Padding rows past the real vocabulary ([PAD1007]) stand for no text, as in llama.cpp.
            if type == TokenType.unused.rawValue { return AddedToken(id: id, content: "", special: true) }
            guard type == TokenType.control.rawValue || type == TokenType.userDefined.rawValue else { return nil }
            // A control token that is a plain word (ChatGLM's sop, eop) would match inside ordinary text.
            let word = tokens[id].allSatisfy(\.isLetter)
            return AddedToken(id: id, content: tokens[id], special: type == TokenType.control.rawValue, matchedInText: !word)
        }
        let bos = metadata["tokenizer.ggml.bos_token_id"]?.intValue
        let eos = metadata["tokenizer.ggml.eos_token_id"]?.intValue
        let unknown = metadata["tokenizer.ggml.unknown_token_id"]?.intValue
        let addBOS = metadata["tokenizer.ggml.add_bos_token"]?.boolValue ?? (kind == "llama")
        let prefix = addBOS ? (bos.map { [$0] } ?? []) : []
        let bosText = bos.flatMap { $0 < tokens.count ? tokens[$0] : nil }
        let eosText = eos.flatMap { $0 < tokens.count ? tokens[$0] : nil }
        let merges = (metadata["tokenizer.ggml.merges"]?.arrayValue ?? []).compactMap(\.stringValue).compactMap { text -> (String, String)? in
            guard let space = text.firstIndex(of: " ") else { return nil }
            return (String(text[..<space]), String(text[text.index(after: space)...]))
        }

        switch kind {
        case "llama":
            guard let scores = metadata["tokenizer.ggml.scores"]?.arrayValue?.compactMap(\.doubleValue).map(Float.init),
                  scores.count == tokens.count else { throw FormatError("SentencePiece vocabulary without scores") }
            // llama.cpp's converter drops Baichuan's add_dummy_prefix = false (its tokenizer.model puts
            // no space before a text), so a Baichuan file without the key gets Baichuan's setting.
            let baichuan = metadata["general.architecture"]?.stringValue == "baichuan"
            let addSpacePrefix = metadata["tokenizer.ggml.add_space_prefix"]?.boolValue ?? !baichuan
            // Tern's own files carry the merges of the tokenizer.json they came from; applying those
            // exactly keeps its tokenization, where merging by score could join a few pairs differently.
            let table = merges.isEmpty ? BPEModel.scoredMerges(tokens: tokens, scores: scores, vocab: vocab)
                : BPEModel.rankedMerges(merges, vocab: vocab)
            let model = BPEModel(tokens: tokens, merges: table,
                                 unknownId: unknown, byteFallback: true, fuseUnknown: false, ignoreMerges: false)
            let replace = Normalizer.replace(" ", "▁")
            self.init(normalizer: addSpacePrefix ? .sequence([.prepend("▁"), replace]) : replace, preTokenizer: nil,
                      model: model,
                      decoder: TokenDecoder(byteFallback: true, replacements: [("▁", " ")], stripLeadingSpaces: addSpacePrefix ? 1 : 0),
                      addedTokens: added, prefixIds: prefix, suffixIds: [], bosToken: bosText, eosToken: eosText)
        case "gpt2":
            let pre = metadata["tokenizer.ggml.pre"]?.stringValue ?? "default"
            let pattern: String
            switch pre {
            case "llama3", "llama-v3", "llama-bpe": pattern = SplitRegex.llama3
            case "qwen2": pattern = SplitRegex.qwen2
            case "gpt-2", "default": pattern = SplitRegex.gpt2
            default: throw FormatError("unsupported pre-tokenizer '\(pre)' (supported: llama-bpe, qwen2, gpt-2)")
            }
            let model = BPEModel(tokens: tokens, merges: BPEModel.rankedMerges(merges, vocab: vocab), unknownId: unknown,
                                 byteFallback: false, fuseUnknown: false, ignoreMerges: pattern == SplitRegex.llama3)
            let split = PreTokenizer.split(try PreTokenizer.regex(pattern), .isolated, invert: false)
            self.init(normalizer: nil, preTokenizer: .sequence([split, .byteLevel(addPrefixSpace: false, regex: nil)]),
                      model: model, decoder: TokenDecoder(byteLevel: true), addedTokens: added,
                      prefixIds: prefix, suffixIds: [], bosToken: bosText, eosToken: eosText)
        default:
            throw FormatError("unsupported tokenizer model '\(kind)' (supported: llama, gpt2)")
        }
    }
}
