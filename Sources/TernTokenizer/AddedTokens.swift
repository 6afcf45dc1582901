// Added and special tokens, found in the raw text before any normalising or splitting.

public struct AddedToken: Sendable {
    public let id: Int
    public let content: String
    public let special: Bool
    /// Whitespace on that side of the token belongs to the token.
    let leftStrip: Bool
    let rightStrip: Bool
    /// Found in text. ChatGLM's `sop` and `eop` are plain words, so only their ids are used.
    let matchedInText: Bool

    init(id: Int, content: String, special: Bool, leftStrip: Bool = false, rightStrip: Bool = false, matchedInText: Bool = true) {
        self.id = id
        self.content = content
        self.special = special
        self.leftStrip = leftStrip
        self.rightStrip = rightStrip
        self.matchedInText = matchedInText
    }
}

enum TextSegment: Equatable {
    case text(String)
    case token(Int)
}

struct AddedTokenMatcher: Sendable {
    let tokens: [AddedToken]
    /// Candidates by their first UTF-8 byte, longest first, so the longest match wins.
    private let byFirstByte: [UInt8: [AddedToken]]

    init(_ tokens: [AddedToken]) {
        self.tokens = tokens
        var table: [UInt8: [AddedToken]] = [:]
        for token in tokens where !token.content.isEmpty && token.matchedInText {
            table[token.content.utf8.first!, default: []].append(token)
        }
        byFirstByte = table.mapValues { $0.sorted { $0.content.utf8.count > $1.content.utf8.count } }
    }

    func split(_ text: String) -> [TextSegment] {
        guard !byFirstByte.isEmpty else { return text.isEmpty ? [] : [.text(text)] }
        let bytes = Array(text.utf8)
        var segments: [TextSegment] = []
        var textStart = 0
        var i = 0
        func flushText(upTo end: Int) {
            if end > textStart { segments.append(.text(String(decoding: bytes[textStart..<end], as: UTF8.self))) }
        }
        while i < bytes.count {
            guard let candidates = byFirstByte[bytes[i]],
                  let token = candidates.first(where: { matches($0, bytes, at: i) }) else {
                i += 1
                continue
            }
            var textEnd = i
            if token.leftStrip { while textEnd > textStart, isSpace(bytes[textEnd - 1]) { textEnd -= 1 } }
            flushText(upTo: textEnd)
            segments.append(.token(token.id))
            i += token.content.utf8.count
            if token.rightStrip { while i < bytes.count, isSpace(bytes[i]) { i += 1 } }
            textStart = i
        }
        flushText(upTo: bytes.count)
        return segments
    }

    private func matches(_ token: AddedToken, _ bytes: [UInt8], at offset: Int) -> Bool {
        let content = token.content.utf8
        guard offset + content.count <= bytes.count else { return false }
        return zip(content, bytes[offset...]).allSatisfy { $0 == $1 }
    }

    private func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }
}
