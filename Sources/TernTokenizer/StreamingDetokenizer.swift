// Incremental decoding for streaming: text is released only as whole UTF-8 characters, so a
// character spread over several byte tokens (Chinese, emoji) is never split or garbled.

public struct StreamingDetokenizer: Sendable {
    private let tokenizer: Tokenizer
    private let skipSpecialTokens: Bool
    private var pending: [UInt8] = []
    private var atSequenceStart: Bool

    /// `atSequenceStart` applies the decoder's leading-space strip to the first text; it is
    /// false when the tokens continue a prompt.
    public init(tokenizer: Tokenizer, skipSpecialTokens: Bool = true, atSequenceStart: Bool = false) {
        self.tokenizer = tokenizer
        self.skipSpecialTokens = skipSpecialTokens
        self.atSequenceStart = atSequenceStart
    }

    /// Adds one token and returns the text it completes (possibly empty).
    public mutating func append(_ id: Int) -> String {
        pending += tokenizer.bytes(ofToken: id, skipSpecialTokens: skipSpecialTokens)
        if atSequenceStart, !pending.isEmpty {
            pending.removeFirst(tokenizer.leadingSpacesToStrip(pending))
            atSequenceStart = false
        }
        let complete = Self.completePrefixLength(pending)
        let text = String(decoding: pending[..<complete], as: UTF8.self)
        pending.removeFirst(complete)
        return text
    }

    /// Whatever is still held back at the end of the stream (an incomplete character).
    public mutating func finish() -> String {
        defer { pending.removeAll() }
        return String(decoding: pending, as: UTF8.self)
    }

    /// Length of the prefix that ends on a character boundary: an unfinished multi-byte
    /// sequence at the end is held back; invalid bytes elsewhere pass through (as U+FFFD).
    static func completePrefixLength(_ bytes: [UInt8]) -> Int {
        var start = bytes.count
        // Look back at most 3 bytes for the lead byte of the last character.
        while start > 0, bytes.count - start < 4 {
            start -= 1
            let byte = bytes[start]
            if byte & 0xC0 != 0x80 {
                let needed = byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : byte >= 0xC0 ? 2 : 1
                return bytes.count - start < needed && byte >= 0xC0 ? start : bytes.count
            }
        }
        return bytes.count
    }
}
