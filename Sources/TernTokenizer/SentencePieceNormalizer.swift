// SentencePiece's own normalizer, for models whose tokenizer.model asks for more than llama.cpp's
// space handling: the precompiled character map (a double-array trie of rewrites, e.g. NFKC),
// whitespace collapsing (remove_extra_whitespaces), the dummy prefix and whitespace as "▁".
import TernFormats

struct SentencePieceNormalizer: Sendable {
    /// Trie units (darts-clone layout) and the NUL-terminated replacement strings they point into.
    private let units: [UInt32]
    private let replacements: [UInt8]
    let addDummyPrefix: Bool
    let removeExtraWhitespaces: Bool

    init(charsmap: [UInt8], addDummyPrefix: Bool, removeExtraWhitespaces: Bool) throws {
        self.addDummyPrefix = addDummyPrefix
        self.removeExtraWhitespaces = removeExtraWhitespaces
        guard !charsmap.isEmpty else { units = []; replacements = []; return }
        guard charsmap.count >= 4 else { throw FormatError("precompiled_charsmap is truncated") }
        let trieBytes = Int(charsmap[0]) | Int(charsmap[1]) << 8 | Int(charsmap[2]) << 16 | Int(charsmap[3]) << 24
        guard trieBytes % 4 == 0, 4 + trieBytes <= charsmap.count else { throw FormatError("precompiled_charsmap has a bad trie size") }
        units = stride(from: 4, to: 4 + trieBytes, by: 4).map { i in
            UInt32(charsmap[i]) | UInt32(charsmap[i + 1]) << 8 | UInt32(charsmap[i + 2]) << 16 | UInt32(charsmap[i + 3]) << 24
        }
        replacements = Array(charsmap[(4 + trieBytes)...])
    }

    /// The longest rewrite rule matching the start of `bytes`: its replacement and the bytes it consumes.
    private func longestRule(_ bytes: ArraySlice<UInt8>) -> (replacement: ArraySlice<UInt8>, length: Int)? {
        guard !units.isEmpty else { return nil }
        func offset(_ unit: UInt32) -> Int { Int((unit >> 10) << ((unit & (1 << 9)) >> 6)) }
        func hasLeaf(_ unit: UInt32) -> Bool { (unit >> 8) & 1 == 1 }
        func label(_ unit: UInt32) -> UInt32 { unit & ((1 << 31) | 0xFF) }
        var position = offset(units[0])
        var found: (Int, Int)?
        for (i, byte) in bytes.enumerated() {
            position ^= Int(byte)
            guard position < units.count else { break }
            let unit = units[position]
            guard label(unit) == UInt32(byte) else { break }
            position ^= offset(unit)
            // A unit with a leaf has the rule's value in the unit it leads to.
            if hasLeaf(unit), position < units.count { found = (Int(units[position] & 0x7FFF_FFFF), i + 1) }
        }
        guard let (value, length) = found, value < replacements.count else { return nil }
        let end = replacements[value...].firstIndex(of: 0) ?? replacements.endIndex
        return (replacements[value..<end], length)
    }

    func apply(_ text: String) -> String {
        let input = Array(text.utf8)
        guard !input.isEmpty else { return text }
        var output: [UInt8] = []
        let space: [UInt8] = Array("▁".utf8)
        if addDummyPrefix { output += space }
        var previousWasSpace = removeExtraWhitespaces
        var at = 0
        while at < input.count {
            var piece: ArraySlice<UInt8>
            if let rule = longestRule(input[at...]) {
                piece = rule.replacement
                at += rule.length
            } else {
                let length = Self.utf8Length(input[at])
                piece = input[at..<min(at + length, input.count)]
                at += length
            }
            while previousWasSpace, piece.first == 0x20 { piece = piece.dropFirst() }
            if !piece.isEmpty {
                for byte in piece { if byte == 0x20 { output += space } else { output.append(byte) } }
                previousWasSpace = piece.last == 0x20
            }
            if !removeExtraWhitespaces { previousWasSpace = false }
        }
        if removeExtraWhitespaces {
            while output.count >= space.count, Array(output.suffix(space.count)) == space { output.removeLast(space.count) }
        }
        return String(decoding: output, as: UTF8.self)
    }

    private static func utf8Length(_ lead: UInt8) -> Int {
        lead < 0x80 ? 1 : lead >> 5 == 0b110 ? 2 : lead >> 4 == 0b1110 ? 3 : lead >> 3 == 0b11110 ? 4 : 1
    }
}
