// Splits a template into text and tag tokens, applying Jinja's whitespace control as
// transformers configures it (trim_blocks, lstrip_blocks, no trailing newline kept).

enum TokenKind: Equatable {
    case text(String)
    case variableStart, variableEnd, blockStart, blockEnd
    case name(String)
    case string(String)
    case int(Int)
    case double(Double)
    case symbol(String)
    case end
}

struct Token {
    let kind: TokenKind
    let position: SourcePosition
}

struct JinjaLexer {
    private let source: [Unicode.Scalar]
    private var index = 0
    private var tokens: [Token] = []
    private var lineStarts: [Int] = [0]
    private let trimBlocks = true
    private let lstripBlocks = true

    init(_ template: String) {
        // Line endings become "\n" and one trailing newline is dropped, as Jinja does.
        var text = template.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
        if text.hasSuffix("\n") { text.removeLast() }
        source = Array(text.unicodeScalars)
        for (i, c) in source.enumerated() where c == "\n" { lineStarts.append(i + 1) }
    }

    func position(_ offset: Int) -> SourcePosition {
        var low = 0, high = lineStarts.count - 1
        while low < high {
            let mid = (low + high + 1) / 2
            if lineStarts[mid] <= offset { low = mid } else { high = mid - 1 }
        }
        return SourcePosition(line: low + 1, column: offset - lineStarts[low] + 1)
    }

    private func string(_ range: Range<Int>) -> String {
        var view = String.UnicodeScalarView()
        view.append(contentsOf: source[range])
        return String(view)
    }

    private func at(_ offset: Int, _ text: String) -> Bool {
        var i = offset
        for c in text.unicodeScalars {
            guard i < source.count, source[i] == c else { return false }
            i += 1
        }
        return true
    }

    mutating func tokenize() throws -> [Token] {
        var stripNextText = false
        while index < source.count {
            let tagStart = nextTagStart(from: index)
            var textEnd = tagStart ?? source.count
            var textStart = index
            if stripNextText {
                while textStart < textEnd, source[textStart].properties.isWhitespace { textStart += 1 }
                stripNextText = false
            }
            guard let tagStart else {
                emitText(textStart..<textEnd)
                break
            }
            let kind = source[tagStart + 1]
            let modifier: Unicode.Scalar? = tagStart + 2 < source.count ? source[tagStart + 2] : nil
            if modifier == "-" {
                while textEnd > textStart, source[textEnd - 1].properties.isWhitespace { textEnd -= 1 }
            } else if lstripBlocks, kind != "{", modifier != "+" {
                var lineStart = textEnd
                while lineStart > 0, source[lineStart - 1] == " " || source[lineStart - 1] == "\t" { lineStart -= 1 }
                if lineStart == 0 || source[lineStart - 1] == "\n" { textEnd = max(textStart, lineStart) }
            }
            emitText(textStart..<textEnd)
            index = tagStart + 2 + (modifier == "-" || modifier == "+" ? 1 : 0)
            let closing: (strip: Bool, isBlock: Bool)
            switch kind {
            case "#": closing = try skipComment(openedAt: tagStart)
            case "%": closing = try lexTag(start: .blockStart, end: .blockEnd, closer: "%}", openedAt: tagStart)
            default: closing = try lexTag(start: .variableStart, end: .variableEnd, closer: "}}", openedAt: tagStart)
            }
            if closing.strip {
                stripNextText = true
            } else if closing.isBlock, trimBlocks, index < source.count, source[index] == "\n" {
                index += 1
            }
        }
        tokens.append(Token(kind: .end, position: position(source.count)))
        return tokens
    }

    private func nextTagStart(from offset: Int) -> Int? {
        var i = offset
        while i + 1 < source.count {
            if source[i] == "{", source[i + 1] == "{" || source[i + 1] == "%" || source[i + 1] == "#" { return i }
            i += 1
        }
        return nil
    }

    private mutating func emitText(_ range: Range<Int>) {
        guard !range.isEmpty else { return }
        tokens.append(Token(kind: .text(string(range)), position: position(range.lowerBound)))
    }

    private mutating func skipComment(openedAt start: Int) throws -> (strip: Bool, isBlock: Bool) {
        while index + 1 < source.count {
            if source[index] == "#", source[index + 1] == "}" {
                let strip = index > 0 && source[index - 1] == "-"
                index += 2
                return (strip, true)
            }
            index += 1
        }
        throw TemplateError("unclosed comment", at: position(start))
    }

    private mutating func lexTag(start: TokenKind, end: TokenKind, closer: String, openedAt tagStart: Int) throws -> (strip: Bool, isBlock: Bool) {
        tokens.append(Token(kind: start, position: position(tagStart)))
        var depth = 0
        while true {
            while index < source.count, source[index].properties.isWhitespace { index += 1 }
            guard index < source.count else {
                throw TemplateError("unclosed tag: expected '\(closer)'", at: position(tagStart))
            }
            if depth == 0 {
                for (prefix, strip) in [("-", true), ("+", false), ("", false)] where at(index, prefix + closer) {
                    tokens.append(Token(kind: end, position: position(index)))
                    index += prefix.unicodeScalars.count + 2
                    return (strip, end == .blockEnd)
                }
            }
            let tokenStart = index
            let kind = try lexExpressionToken()
            if case .symbol(let s) = kind {
                if "([{".contains(s) { depth += 1 }
                if ")]}".contains(s) { depth = max(0, depth - 1) }
            }
            tokens.append(Token(kind: kind, position: position(tokenStart)))
        }
    }

    private mutating func lexExpressionToken() throws -> TokenKind {
        let c = source[index]
        if c == "_" || c.properties.isAlphabetic {
            let start = index
            while index < source.count, source[index] == "_" || source[index].properties.isAlphabetic || ("0"..."9").contains(source[index]) {
                index += 1
            }
            return .name(string(start..<index))
        }
        if ("0"..."9").contains(c) { return lexNumber() }
        if c == "'" || c == "\"" { return try lexString(quote: c) }
        for symbol in ["**", "//", "==", "!=", "<=", ">="] where at(index, symbol) {
            index += 2
            return .symbol(symbol)
        }
        if "+-*/%~<>=()[]{},.:|".unicodeScalars.contains(c) {
            index += 1
            return .symbol(String(c))
        }
        throw TemplateError("unexpected character '\(c)'", at: position(index))
    }

    private mutating func lexNumber() -> TokenKind {
        let start = index
        var isFloat = false
        while index < source.count, ("0"..."9").contains(source[index]) || source[index] == "_" { index += 1 }
        if index + 1 < source.count, source[index] == ".", ("0"..."9").contains(source[index + 1]) {
            isFloat = true
            index += 1
            while index < source.count, ("0"..."9").contains(source[index]) { index += 1 }
        }
        if index < source.count, source[index] == "e" || source[index] == "E" {
            var j = index + 1
            if j < source.count, source[j] == "+" || source[j] == "-" { j += 1 }
            if j < source.count, ("0"..."9").contains(source[j]) {
                isFloat = true
                index = j
                while index < source.count, ("0"..."9").contains(source[index]) { index += 1 }
            }
        }
        let text = string(start..<index).replacingOccurrences(of: "_", with: "")
        if !isFloat, let value = Int(text) { return .int(value) }
        return .double(Double(text) ?? 0)
    }

    private mutating func lexString(quote: Unicode.Scalar) throws -> TokenKind {
        let start = index
        index += 1
        var out = String.UnicodeScalarView()
        while index < source.count {
            let c = source[index]
            if c == quote {
                index += 1
                return .string(String(out))
            }
            if c == "\\", index + 1 < source.count {
                index += 1
                switch source[index] {
                case "n": out.append("\n")
                case "t": out.append("\t")
                case "r": out.append("\r")
                case "0": out.append("\0")
                case "\\", "'", "\"": out.append(source[index])
                case "u" where index + 4 < source.count:
                    let hex = string((index + 1)..<(index + 5))
                    if let value = UInt32(hex, radix: 16), let scalar = Unicode.Scalar(value) {
                        out.append(scalar)
                        index += 4
                    } else {
                        out.append("\\"); out.append("u")
                    }
                default: out.append("\\"); out.append(source[index])
                }
                index += 1
                continue
            }
            out.append(c)
            index += 1
        }
        throw TemplateError("unterminated string", at: position(start))
    }
}
