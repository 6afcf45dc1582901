// The tokenizers the remote-code families ship: ChatGLM3's SentencePiece model with its special
// tokens appended after the vocabulary and [gMASK] sop before every encoded text, and Qwen's
// qwen.tiktoken (byte-level BPE by rank) with its 208 special tokens at fixed ids.
import Foundation
import TernFormats

extension Tokenizer {
    /// ChatGLM3's specials, in the order tokenization_chatglm.py appends them after the SentencePiece vocabulary.
    static let chatGLMSpecials = ["[MASK]", "[gMASK]", "[sMASK]", "sop", "eop", "<|system|>", "<|user|>", "<|assistant|>", "<|observation|>"]

    public convenience init(chatGLM path: String) throws {
        let model = try SentencePieceModel(path: path)
        let parts = try Self.sentencePieceParts(model, path: path)
        let first = model.pieces.count
        let specials = Self.chatGLMSpecials.enumerated().map { index, text in
            AddedToken(id: first + index, content: text, special: true, matchedInText: text != "sop" && text != "eop")
        }
        // encode() with special tokens puts [gMASK] sop in front, as the HF tokenizer's build_inputs does.
        self.init(normalizer: parts.normalizer, preTokenizer: nil, model: parts.model, decoder: parts.decoder,
                  addedTokens: parts.added + specials, prefixIds: [first + 1, first + 3], suffixIds: [],
                  bosToken: model.bosId.map { model.pieces[$0] }, eosToken: model.eosId.map { model.pieces[$0] })
    }

    /// Qwen's special tokens: <|endoftext|>, <|im_start|>, <|im_end|> and <|extra_0|> ... <|extra_204|>, from id 151643.
    static let qwenSpecials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"] + (0..<205).map { "<|extra_\($0)|>" }
    static let qwenSpecialStart = 151_643

    /// qwen.tiktoken: one "base64(bytes) rank" line per token, ranks 0 ..< n being the ids. tiktoken
    /// merges the adjacent pair whose concatenation has the lowest rank; a merge table holding every
    /// split of every token, ranked by the token, does exactly that.
    public convenience init(tiktoken path: String) throws {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw FormatError("cannot read \(path)") }
        var tokens: [String] = []
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: true).enumerated() {
            let fields = line.split(separator: " ")
            guard fields.count == 2, let bytes = Data(base64Encoded: String(fields[0])), let rank = Int(fields[1]) else {
                throw FormatError("\(path): line \(number + 1) is not 'base64 rank'")
            }
            guard rank == tokens.count else { throw FormatError("\(path): line \(number + 1) has rank \(rank), expected \(tokens.count)") }
            tokens.append(ByteLevelAlphabet.encode(bytes))
        }
        guard tokens.count <= Self.qwenSpecialStart else { throw FormatError("\(path): \(tokens.count) tokens overlap the special ids from \(Self.qwenSpecialStart)") }
        let vocab = Dictionary(tokens.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        let merges = BPEModel.scoredMerges(tokens: tokens, scores: tokens.indices.map { -Float($0) }, vocab: vocab)
        let model = BPEModel(tokens: tokens, merges: merges, unknownId: nil, byteFallback: false, fuseUnknown: false, ignoreMerges: false)
        let split = PreTokenizer.split(try PreTokenizer.regex(SplitRegex.qwen2), .isolated, invert: false)
        let specials = Self.qwenSpecials.enumerated().map { AddedToken(id: Self.qwenSpecialStart + $0, content: $1, special: true) }
        self.init(normalizer: .nfc, preTokenizer: .sequence([split, .byteLevel(addPrefixSpace: false, regex: nil)]), model: model,
                  decoder: TokenDecoder(byteLevel: true), addedTokens: specials, prefixIds: [], suffixIds: [],
                  bosToken: nil, eosToken: "<|endoftext|>")
    }
}
