// A tokenizer as a pipeline: added tokens, normaliser, pre-tokenizer, BPE model, post-processor
// (BOS/EOS), and a decoder back to bytes.
import TernFormats

public final class Tokenizer: Sendable {
    let normalizer: Normalizer?
    let preTokenizer: PreTokenizer?
    let model: BPEModel
    let decoder: TokenDecoder
    let addedTokens: AddedTokenMatcher
    private let addedById: [Int: AddedToken]
    /// What the post-processor puts around one sequence when special tokens are added.
    let prefixIds: [Int]
    let suffixIds: [Int]
    public let bosToken: String?
    public let eosToken: String?
    public let vocabularySize: Int

    init(normalizer: Normalizer?, preTokenizer: PreTokenizer?, model: BPEModel, decoder: TokenDecoder,
         addedTokens: [AddedToken], prefixIds: [Int], suffixIds: [Int], bosToken: String?, eosToken: String?) {
        self.normalizer = normalizer
        self.preTokenizer = preTokenizer
        self.model = model
        self.decoder = decoder
        self.addedTokens = AddedTokenMatcher(addedTokens)
        addedById = Dictionary(addedTokens.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        self.prefixIds = prefixIds
        self.suffixIds = suffixIds
        self.bosToken = bosToken
        self.eosToken = eosToken
        vocabularySize = max(model.tokens.count, (addedTokens.map(\.id).max() ?? -1) + 1)
    }

    public var bosTokenId: Int? { bosToken.flatMap(id(of:)) }
    public var eosTokenId: Int? { eosToken.flatMap(id(of:)) }

    public func id(of token: String) -> Int? {
        addedTokens.tokens.first { $0.content == token }?.id ?? model.vocab[token]
    }

    public func token(_ id: Int) -> String? {
        if let added = addedById[id] { return added.content }
        return id >= 0 && id < model.tokens.count ? model.tokens[id] : nil
    }

    public func isSpecial(_ id: Int) -> Bool { addedById[id]?.special ?? false }

    /// Token ids of `text`. Added and special tokens written in the text are recognised unless
    /// `parseSpecialTokens` is off (the text is then all text, as a chat message's content should be);
    /// with `addSpecialTokens` the post-processor's BOS/EOS are put around the result.
    public func encode(_ text: String, addSpecialTokens: Bool = true, parseSpecialTokens: Bool = true) -> [Int] {
        var ids: [Int] = addSpecialTokens ? prefixIds : []
        let segments = parseSpecialTokens ? addedTokens.split(text) : (text.isEmpty ? [] : [.text(text)])
        for (index, segment) in segments.enumerated() {
            switch segment {
            case .token(let id):
                ids.append(id)
            case .text(let raw):
                let normalized = normalizer?.apply(raw) ?? raw
                let pieces = preTokenizer?.apply([normalized], isFirstSection: index == 0) ?? [normalized]
                for piece in pieces where !piece.isEmpty { model.encode(piece, into: &ids) }
            }
        }
        if addSpecialTokens { ids += suffixIds }
        return ids
    }

    /// The bytes one token stands for; special tokens give their text unless skipped.
    public func bytes(ofToken id: Int, skipSpecialTokens: Bool = false) -> [UInt8] {
        if let added = addedById[id] {
            return skipSpecialTokens && added.special ? [] : Array(added.content.utf8)
        }
        guard id >= 0, id < model.tokens.count else { return [] }
        return decoder.bytes(ofToken: model.tokens[id])
    }

    public func decode(_ ids: [Int], skipSpecialTokens: Bool = false) -> String {
        var bytes: [UInt8] = []
        for id in ids { bytes += self.bytes(ofToken: id, skipSpecialTokens: skipSpecialTokens) }
        return String(decoding: bytes.dropFirst(leadingSpacesToStrip(bytes)), as: UTF8.self)
    }

    /// The decoder's leading-space strip, as a count of bytes at the start of a sequence.
    func leadingSpacesToStrip<C: Collection>(_ bytes: C) -> Int where C.Element == UInt8 {
        bytes.prefix(decoder.stripLeadingSpaces).prefix { $0 == 0x20 }.count
    }
}
