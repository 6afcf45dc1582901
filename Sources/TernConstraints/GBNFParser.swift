// Grammars in GBNF, the BNF dialect llama.cpp's grammars and vLLM's guided_grammar use:
//
//     root   ::= answer ("," ws answer)*
//     answer ::= "yes" | "no" | [0-9]{1,3}
//     ws     ::= [ \t\n]*       # comments run to the end of the line
//
// Rules are `name ::= alternatives`; items are "strings", [classes] (ranges, ^ negation),
// `.` (any character), rule names and (groups), each optionally followed by *, +, ? or {m},
// {m,}, {m,n}. Generation starts at `root`.

public struct GBNFParser {
    private let scalars: [Unicode.Scalar]
    private var index = 0

    public static func grammar(_ source: String) throws -> Grammar {
        var parser = GBNFParser(scalars: Array(source.unicodeScalars))
        var rules: [String: GrammarExpression] = [:]
        parser.skipSpace()
        while parser.index < parser.scalars.count {
            let name = try parser.name()
            parser.skipSpace()
            guard parser.take("::=") else { throw parser.error("expected '::=' after rule name '\(name)'") }
            guard rules[name] == nil else { throw parser.error("rule '\(name)' is defined twice") }
            rules[name] = try parser.alternatives()
            parser.skipSpace()
        }
        guard rules["root"] != nil else { throw ConstraintError("grammar: no 'root' rule") }
        for (name, expression) in rules {
            if let missing = Self.references(expression).first(where: { rules[$0] == nil }) {
                throw ConstraintError("grammar: rule '\(name)' refers to undefined rule '\(missing)'")
            }
        }
        return Grammar(rules: rules, root: "root")
    }

    private static func references(_ expression: GrammarExpression) -> [String] {
        switch expression {
        case .bytes: return []
        case .reference(let name): return [name]
        case .sequence(let items), .choice(let items): return items.flatMap(references)
        case .repeated(let item, _, _): return references(item)
        }
    }

    private init(scalars: [Unicode.Scalar]) { self.scalars = scalars }

    private var peek: Unicode.Scalar? { index < scalars.count ? scalars[index] : nil }

    private func error(_ message: String) -> ConstraintError {
        var line = 1
        for scalar in scalars[..<min(index, scalars.count)] where scalar == "\n" { line += 1 }
        return ConstraintError("grammar line \(line): \(message)")
    }

    private mutating func skipSpace() {
        while let c = peek {
            if c == "#" {
                while let d = peek, d != "\n" { index += 1 }
            } else if c.properties.isWhitespace {
                index += 1
            } else {
                return
            }
        }
    }

    private mutating func take(_ text: String) -> Bool {
        let wanted = Array(text.unicodeScalars)
        guard index + wanted.count <= scalars.count, Array(scalars[index..<(index + wanted.count)]) == wanted else { return false }
        index += wanted.count
        return true
    }

    private static func isNameCharacter(_ c: Unicode.Scalar) -> Bool {
        c == "-" || c == "_" || ("a"..."z").contains(c) || ("A"..."Z").contains(c) || ("0"..."9").contains(c)
    }

    private mutating func name() throws -> String {
        let start = index
        while let c = peek, Self.isNameCharacter(c) { index += 1 }
        guard index > start else { throw error("expected a rule name") }
        return String(String.UnicodeScalarView(scalars[start..<index]))
    }

    /// True when the next thing is `name ::=`, the start of the next rule.
    private func atRuleStart() -> Bool {
        var j = index
        while j < scalars.count, Self.isNameCharacter(scalars[j]) { j += 1 }
        guard j > index else { return false }
        while j < scalars.count, scalars[j] == " " || scalars[j] == "\t" || scalars[j] == "\n" || scalars[j] == "\r" { j += 1 }
        return j + 3 <= scalars.count && String(String.UnicodeScalarView(scalars[j..<(j + 3)])) == "::="
    }

    private mutating func alternatives() throws -> GrammarExpression {
        var options = [try sequence()]
        while true {
            skipSpace()
            guard take("|") else { break }
            options.append(try sequence())
        }
        return options.count == 1 ? options[0] : .choice(options)
    }

    private mutating func sequence() throws -> GrammarExpression {
        var items: [GrammarExpression] = []
        while true {
            skipSpace()
            guard let c = peek, c != "|", c != ")", !atRuleStart() else { break }
            var item = try primary()
            while let repetition = try repetition() { item = .repeated(item, min: repetition.min, max: repetition.max) }
            items.append(item)
        }
        return items.count == 1 ? items[0] : .sequence(items)
    }

    private mutating func repetition() throws -> (min: Int, max: Int?)? {
        switch peek {
        case "*": index += 1; return (0, nil)
        case "+": index += 1; return (1, nil)
        case "?": index += 1; return (0, 1)
        case "{":
            index += 1
            let low = number()
            var high: Int? = low
            if take(",") { high = number() }
            guard let low, take("}") else { throw error("bad repetition count") }
            return (low, high)
        default: return nil
        }
    }

    private mutating func number() -> Int? {
        skipSpace()
        let start = index
        while let c = peek, ("0"..."9").contains(c) { index += 1 }
        defer { skipSpace() }
        return Int(String(String.UnicodeScalarView(scalars[start..<index])))
    }

    private mutating func primary() throws -> GrammarExpression {
        guard let c = peek else { throw error("unexpected end") }
        switch c {
        case "\"":
            index += 1
            var text = String.UnicodeScalarView()
            while true {
                guard let d = peek else { throw error("unterminated string") }
                index += 1
                if d == "\"" { break }
                text.append(d == "\\" ? try escaped() : d)
            }
            return .literal(String(text))
        case "[":
            index += 1
            return .character(in: try characterClass())
        case ".":
            index += 1
            return .character(in: .all)
        case "(":
            index += 1
            let inner = try alternatives()
            skipSpace()
            guard take(")") else { throw error("missing ')'") }
            return inner
        default:
            guard Self.isNameCharacter(c) else { throw error("unexpected '\(c)'") }
            return .reference(try name())
        }
    }

    private mutating func characterClass() throws -> CodePointSet {
        var negated = false
        if peek == "^" { negated = true; index += 1 }
        var set = CodePointSet()
        while true {
            guard let c = peek else { throw error("missing ']'") }
            index += 1
            if c == "]" { break }
            let low = c == "\\" ? try escaped() : c
            if peek == "-", index + 1 < scalars.count, scalars[index + 1] != "]" {
                index += 1
                let h = scalars[index]
                index += 1
                let high = h == "\\" ? try escaped() : h
                guard low.value <= high.value else { throw error("bad character range") }
                set.insert(low.value...high.value)
            } else {
                set.insert(low.value)
            }
        }
        return negated ? set.inverted : set
    }

    /// The character after a backslash.
    private mutating func escaped() throws -> Unicode.Scalar {
        guard let c = peek else { throw error("trailing backslash") }
        index += 1
        switch c {
        case "n": return "\n"
        case "t": return "\t"
        case "r": return "\r"
        case "x", "u", "U":
            let digits = c == "x" ? 2 : c == "u" ? 4 : 8
            guard index + digits <= scalars.count,
                  let value = UInt32(String(String.UnicodeScalarView(scalars[index..<(index + digits)])), radix: 16),
                  let scalar = Unicode.Scalar(value) else { throw error("bad escape") }
            index += digits
            return scalar
        default: return c
        }
    }
}
