// Regular expressions (Python `re` syntax, matched as a whole like re.fullmatch) as grammar
// expressions: literals, escapes, classes, `.`, groups, alternation and greedy or lazy
// quantifiers. Constructs a left-to-right automaton cannot honour (backreferences, lookaround,
// inline flags, anchors inside the pattern) are refused, not approximated.
//
// Inside a JSON string (a schema's `pattern`) the characters JSON must escape are produced as
// their escapes when written literally and left out of classes and `.`, so the decoded string
// still matches the pattern.

public struct RegexParser {
    public enum Target: Sendable {
        /// The pattern's characters are the text.
        case text
        /// The pattern describes a JSON string's value; the grammar produces its escaped form.
        case jsonString
    }

    private let scalars: [Unicode.Scalar]
    private var index = 0
    private let target: Target

    public static func expression(_ pattern: String, target: Target = .text) throws -> GrammarExpression {
        var parser = RegexParser(scalars: Array(pattern.unicodeScalars), target: target)
        // A whole match is what is generated, so anchors at the ends change nothing.
        if parser.peek == "^" { parser.index += 1 }
        let expression = try parser.alternation()
        guard parser.index == parser.scalars.count else {
            throw parser.error("unbalanced ')'")
        }
        return expression
    }

    private init(scalars: [Unicode.Scalar], target: Target) {
        self.scalars = scalars
        self.target = target
    }

    private var peek: Unicode.Scalar? { index < scalars.count ? scalars[index] : nil }

    private func error(_ message: String) -> ConstraintError {
        ConstraintError("regular expression: \(message) at position \(index)", keyword: "pattern")
    }

    private mutating func alternation() throws -> GrammarExpression {
        var options = [try concatenation()]
        while peek == "|" {
            index += 1
            options.append(try concatenation())
        }
        return options.count == 1 ? options[0] : .choice(options)
    }

    private mutating func concatenation() throws -> GrammarExpression {
        var items: [GrammarExpression] = []
        while let c = peek, c != "|", c != ")" {
            if c == "$" {
                index += 1
                guard peek == nil || peek == ")" || peek == "|" else { throw error("'$' is only supported at the end") }
                continue
            }
            var item = try atom()
            while let quantifier = try quantifier() {
                item = .repeated(item, min: quantifier.min, max: quantifier.max)
            }
            items.append(item)
        }
        return items.count == 1 ? items[0] : .sequence(items)
    }

    private mutating func quantifier() throws -> (min: Int, max: Int?)? {
        guard let c = peek else { return nil }
        let result: (Int, Int?)
        switch c {
        case "*": index += 1; result = (0, nil)
        case "+": index += 1; result = (1, nil)
        case "?": index += 1; result = (0, 1)
        case "{":
            guard let counted = countedRepetition() else { return nil }
            result = counted
        default: return nil
        }
        if peek == "?" { index += 1 } // lazy: the same strings match as a whole
        else if peek == "+" { throw error("possessive quantifiers are not supported") }
        return result
    }

    /// `{n}`, `{n,}`, `{,m}`, `{n,m}`; anything else leaves `{` a literal, as Python does.
    private mutating func countedRepetition() -> (Int, Int?)? {
        var j = index + 1
        func number() -> Int? {
            var digits = ""
            while j < scalars.count, ("0"..."9").contains(scalars[j]) { digits.unicodeScalars.append(scalars[j]); j += 1 }
            return Int(digits)
        }
        let low = number()
        var high: Int?? = .some(low)
        if j < scalars.count, scalars[j] == "," {
            j += 1
            high = .some(number())
        }
        guard j < scalars.count, scalars[j] == "}", low != nil || high != nil else { return nil }
        if low == nil, high == .some(nil) { return nil }
        index = j + 1
        return (low ?? 0, high ?? nil)
    }

    private mutating func atom() throws -> GrammarExpression {
        let c = scalars[index]
        index += 1
        switch c {
        case "(":
            if peek == "?" {
                index += 1
                if peek == ":" { index += 1 }
                else if peek == "P" || peek == "<" && index + 1 < scalars.count && scalars[index + 1] != "=" && scalars[index + 1] != "!" {
                    // A named group: (?P<name>...) or (?<name>...).
                    while let n = peek, n != ">" { index += 1 }
                    guard peek == ">" else { throw error("unterminated group name") }
                    index += 1
                } else {
                    throw error("'(?\(peek.map(String.init) ?? "")' (lookaround, inline flags, conditionals) is not supported")
                }
            }
            let inner = try alternation()
            guard peek == ")" else { throw error("missing ')'") }
            index += 1
            return inner
        case "[":
            return character(in: try characterClass())
        case ".":
            return character(in: CodePointSet([0...9, 11...UTF8Ranges.maxScalar]))
        case "\\":
            return try escape()
        case "*", "+", "?":
            throw error("nothing to repeat")
        case "^":
            throw error("'^' is only supported at the start")
        default:
            return literal(c)
        }
    }

    private mutating func escape() throws -> GrammarExpression {
        guard let c = peek else { throw error("trailing backslash") }
        if let set = try shorthandClass(c) { index += 1; return character(in: set) }
        return literal(try escapedScalar())
    }

    /// \d \w \s and their negations. The negations are limited to ASCII so they never admit a
    /// character Python's Unicode-aware classes would count as a digit, word or space character.
    private func shorthandClass(_ c: Unicode.Scalar) throws -> CodePointSet? {
        let digits = CodePointSet([48...57])
        let word = CodePointSet([48...57, 65...90, 95...95, 97...122])
        let space = CodePointSet([9...13, 32...32])
        let ascii = CodePointSet([0...127])
        switch c {
        case "d": return digits
        case "w": return word
        case "s": return space
        case "D": return ascii.subtracting(digits)
        case "W": return ascii.subtracting(word)
        case "S": return ascii.subtracting(space)
        case "b", "B", "A", "Z", "z", "G": throw error("'\\\(c)' anchors are not supported")
        case "1"..."9": throw error("backreferences are not supported")
        case "p", "P": throw error("Unicode property classes are not supported")
        default: return nil
        }
    }

    /// The character an escape stands for (the backslash already read).
    private mutating func escapedScalar() throws -> Unicode.Scalar {
        let c = scalars[index]
        index += 1
        switch c {
        case "n": return "\n"
        case "t": return "\t"
        case "r": return "\r"
        case "f": return "\u{0C}"
        case "v": return "\u{0B}"
        case "a": return "\u{07}"
        case "0": return "\0"
        case "x": return try hexScalar(digits: 2)
        case "u": return try hexScalar(digits: 4)
        case "U": return try hexScalar(digits: 8)
        default:
            guard !c.properties.isAlphabetic && !("0"..."9").contains(c) else { throw error("unknown escape '\\\(c)'") }
            return c
        }
    }

    private mutating func hexScalar(digits: Int) throws -> Unicode.Scalar {
        guard index + digits <= scalars.count,
              let value = UInt32(String(String.UnicodeScalarView(scalars[index..<(index + digits)])), radix: 16),
              let scalar = Unicode.Scalar(value) else { throw error("bad hexadecimal escape") }
        index += digits
        return scalar
    }

    private mutating func characterClass() throws -> CodePointSet {
        var negated = false
        if peek == "^" { negated = true; index += 1 }
        var set = CodePointSet()
        var first = true
        while true {
            guard let c = peek else { throw error("missing ']'") }
            if c == "]" && !first { index += 1; break }
            first = false
            index += 1
            var low: Unicode.Scalar
            if c == "\\" {
                guard let e = peek else { throw error("trailing backslash") }
                if let shorthand = try shorthandClass(e) { index += 1; set.formUnion(shorthand); continue }
                low = e == "b" ? { index += 1; return "\u{08}" }() : try escapedScalar()
            } else if c == "[" && (peek == ":" || peek == "=" || peek == ".") {
                throw error("POSIX classes are not supported")
            } else {
                low = c
            }
            if peek == "-", index + 1 < scalars.count, scalars[index + 1] != "]" {
                index += 1
                var high = scalars[index]
                index += 1
                if high == "\\" { high = try escapedScalar() }
                guard low.value <= high.value else { throw error("bad character range") }
                set.insert(low.value...high.value)
            } else {
                set.insert(low.value)
            }
        }
        return negated ? set.inverted : set
    }

    private func literal(_ scalar: Unicode.Scalar) -> GrammarExpression {
        switch target {
        case .text: return .literal(String(scalar))
        case .jsonString: return .literal(String(JSONStringGrammar.escaped(scalar)))
        }
    }

    private func character(in set: CodePointSet) -> GrammarExpression {
        switch target {
        case .text: return .character(in: set)
        case .jsonString: return .character(in: set.subtracting(JSONStringGrammar.mustEscape))
        }
    }
}
