// Building a Tokenizer from SentencePiece's tokenizer.model (LLaMA 1/2, Yi, Baichuan2, ChatGLM3
// ship only that): BPE models merge by piece score, unigram models segment by it (Viterbi); the
// file's normalizer (character map, whitespace rules, dummy prefix) runs as SentencePiece runs it;
// control and user-defined pieces are found in text as llama.cpp finds them; the BOS choice
// comes from tokenizer_config.json.
import TernFormats

extension Tokenizer {
    public convenience init(sentencePiece path: String, config: JSONValue?) throws {
        let model = try SentencePieceModel(path: path)
        let parts = try Self.sentencePieceParts(model, path: path)
        let addBOS = config?["add_bos_token"]?.boolValue ?? true
        self.init(normalizer: parts.normalizer, preTokenizer: nil, model: parts.model, decoder: parts.decoder, addedTokens: parts.added,
                  prefixIds: addBOS ? (model.bosId.map { [$0] } ?? []) : [], suffixIds: [],
                  bosToken: model.bosId.map { model.pieces[$0] }, eosToken: model.eosId.map { model.pieces[$0] })
    }

    static func sentencePieceParts(_ model: SentencePieceModel, path: String) throws
        -> (normalizer: Normalizer, model: BPEModel, decoder: TokenDecoder, added: [AddedToken]) {
        guard model.kind == .bpe || model.kind == .unigram else {
            throw FormatError("\(path): SentencePiece \(model.kind) models are not supported (supported: BPE, unigram)")
        }
        for id in [model.unknownId, model.bosId, model.eosId].compactMap({ $0 }) where id >= model.pieces.count {
            throw FormatError("\(path): special id \(id) is outside the \(model.pieces.count) pieces")
        }
        let normalizer: SentencePieceNormalizer
        do {
            normalizer = try SentencePieceNormalizer(charsmap: model.precompiledCharsmap, addDummyPrefix: model.addDummyPrefix,
                                                     removeExtraWhitespaces: model.removeExtraWhitespaces)
        } catch let error as FormatError { throw FormatError("\(path): \(error.message)") }
        let vocab = Dictionary(model.pieces.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        let unigram = model.kind == .unigram ? UnigramSegmenter(pieces: model.pieces, scores: model.scores, types: model.types) : nil
        let merges = unigram == nil ? BPEModel.scoredMerges(tokens: model.pieces, scores: model.scores, vocab: vocab) : [:]
        let bpe = BPEModel(tokens: model.pieces, merges: merges, unknownId: model.unknownId, byteFallback: model.byteFallback,
                           fuseUnknown: false, ignoreMerges: false, unigram: unigram)
        let added = model.types.enumerated().compactMap { id, type -> AddedToken? in
            guard type == 3 || type == 4 else { return nil }
            return AddedToken(id: id, content: model.pieces[id], special: type == 3)
        }
        let decoder = TokenDecoder(byteFallback: true, replacements: [("▁", " ")], stripLeadingSpaces: model.addDummyPrefix ? 1 : 0)
        return (.sentencePiece(normalizer), bpe, decoder, added)
    }
}
