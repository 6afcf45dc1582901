// Recursive-descent parser from tokens to the syntax tree, with Jinja's operator precedence:
// conditional < or < and < not < comparison < + - < ~ < * / // % < ** < unary < postfix/filters.

struct JinjaParser {
    private let tokens: [Token]
    private var index = 0
    /// Open brackets and blocks around the current token; bounded so no template can exhaust the stack.
    private var nesting = 0
    /// Inside an `{% if %}`, unknown filters and tests are errors only if they run (as in Jinja,
    /// which checks them at compile time everywhere else).
    private var conditionalDepth = 0
    static let maxNesting = 100
    /// Operators in one expression; a left-leaning chain is evaluated recursively, so it is bounded too.
    private var operators = 0
    static let maxOperators = 2000

    init(tokens: [Token]) {
        self.tokens = tokens
    }

    static func parse(_ template: String) throws -> [Node] {
        var lexer = JinjaLexer(template)
        var parser = JinjaParser(tokens: try lexer.tokenize())
        let (nodes, ending) = try parser.parseNodes(until: [])
        if let ending { throw TemplateError("unexpected '\(ending)'", at: parser.current.position) }
        return nodes
    }

    private var current: Token { tokens[index] }

    private mutating func advance() -> Token {
        let token = tokens[index]
        if index < tokens.count - 1 { index += 1 }
        return token
    }

    private func error(_ message: String) -> TemplateError {
        TemplateError(message, at: current.position)
    }

    private func describe(_ kind: TokenKind) -> String {
        switch kind {
        case .text: return "text"
        case .variableStart: return "'{{'"
        case .variableEnd: return "'}}'"
        case .blockStart: return "'{%'"
        case .blockEnd: return "'%}'"
        case .name(let n): return "'\(n)'"
        case .string(let s): return "string '\(s)'"
        case .int(let i): return "\(i)"
        case .double(let d): return "\(d)"
        case .symbol(let s): return "'\(s)'"
        case .end: return "end of template"
        }
    }

    private mutating func expect(_ kind: TokenKind) throws {
        guard current.kind == kind else { throw error("expected \(describe(kind)), found \(describe(current.kind))") }
        _ = advance()
    }

    private mutating func expectName() throws -> String {
        guard case .name(let name) = current.kind else { throw error("expected a name, found \(describe(current.kind))") }
        _ = advance()
        return name
    }

    private mutating func enter() throws {
        nesting += 1
        guard nesting <= Self.maxNesting else { throw error("nested more than \(Self.maxNesting) levels deep") }
    }

    private mutating func countOperator() throws {
        operators += 1
        guard operators <= Self.maxOperators else { throw error("expression has more than \(Self.maxOperators) operators") }
    }

    private func isSymbol(_ symbol: String) -> Bool { current.kind == .symbol(symbol) }
    private func isName(_ name: String) -> Bool { current.kind == .name(name) }

    private mutating func skip(symbol: String) -> Bool {
        guard isSymbol(symbol) else { return false }
        _ = advance()
        return true
    }

    private mutating func skip(name: String) -> Bool {
        guard isName(name) else { return false }
        _ = advance()
        return true
    }

    // MARK: Statements

    /// Parses nodes until a block tag whose keyword is in `endings`; returns that keyword
    /// (consumed, with the tag left open for its arguments) or nil at the end of the template.
    private mutating func parseNodes(until endings: Set<String>) throws -> ([Node], String?) {
        var nodes: [Node] = []
        while true {
            let token = current
            switch token.kind {
            case .end:
                if !endings.isEmpty {
                    throw TemplateError("unclosed block: expected one of \(endings.sorted().joined(separator: ", "))", at: token.position)
                }
                return (nodes, nil)
            case .text(let text):
                _ = advance()
                nodes.append(.text(text))
            case .variableStart:
                _ = advance()
                nodes.append(.output(try parseExpression(), token.position))
                try expect(.variableEnd)
            case .blockStart:
                _ = advance()
                let keyword = try expectName()
                if endings.contains(keyword) { return (nodes, keyword) }
                nodes.append(contentsOf: try parseStatement(keyword, at: token.position))
            default:
                throw error("unexpected \(describe(token.kind))")
            }
        }
    }

    private mutating func parseStatement(_ keyword: String, at position: SourcePosition) throws -> [Node] {
        try enter()
        defer { nesting -= 1 }
        switch keyword {
        case "if": return [try parseIf(at: position)]
        case "for": return [try parseFor(at: position)]
        case "set": return [try parseSet(at: position)]
        case "macro": return [try parseMacro()]
        case "break", "continue":
            try expect(.blockEnd)
            return [keyword == "break" ? .breakLoop(position) : .continueLoop(position)]
        case "filter":
            // `{% filter upper %}...{% endfilter %}`: the body's output through one or more filters.
            let filtered = try parseFiltersAndTests(.variable(Self.filterBlockBody), startingWithFilter: true)
            if case .test = filtered { throw error("a filter block takes filters, not tests") }
            try expect(.blockEnd)
            let (body, _) = try parseNodes(until: ["endfilter"])
            try expect(.blockEnd)
            return [.filterBlock(body, filtered, position)]
        case "generation":
            // transformers' marker around assistant text; it renders its body unchanged.
            try expect(.blockEnd)
            let (body, _) = try parseNodes(until: ["endgeneration"])
            try expect(.blockEnd)
            return body
        default:
            throw TemplateError("unknown tag '\(keyword)'", at: position)
        }
    }

    private mutating func parseIf(at position: SourcePosition) throws -> Node {
        conditionalDepth += 1
        defer { conditionalDepth -= 1 }
        var branches: [(Expression, [Node])] = []
        var condition = try parseExpression()
        while true {
            try expect(.blockEnd)
            let (body, ending) = try parseNodes(until: ["elif", "else", "endif"])
            branches.append((condition, body))
            switch ending {
            case "elif":
                condition = try parseExpression()
            case "else":
                try expect(.blockEnd)
                let (otherwise, _) = try parseNodes(until: ["endif"])
                try expect(.blockEnd)
                return .conditional(branches, otherwise: otherwise, position)
            default:
                try expect(.blockEnd)
                return .conditional(branches, otherwise: [], position)
            }
        }
    }

    private mutating func parseFor(at position: SourcePosition) throws -> Node {
        var targets = [try expectName()]
        while skip(symbol: ",") { targets.append(try expectName()) }
        guard skip(name: "in") else { throw error("expected 'in' in for loop") }
        let iterable = try parseConditional(allowIf: false)
        let condition = skip(name: "if") ? try parseConditional(allowIf: false) : nil
        _ = skip(name: "recursive")
        try expect(.blockEnd)
        let (body, ending) = try parseNodes(until: ["else", "endfor"])
        var otherwise: [Node] = []
        if ending == "else" {
            try expect(.blockEnd)
            otherwise = try parseNodes(until: ["endfor"]).0
        }
        try expect(.blockEnd)
        return .loop(targets: targets, iterable: iterable, condition: condition, body: body, otherwise: otherwise, position)
    }

    private mutating func parseSet(at position: SourcePosition) throws -> Node {
        let first = try expectName()
        if skip(symbol: ".") {
            let attribute = try expectName()
            try expect(.symbol("="))
            let value = try parseExpression()
            try expect(.blockEnd)
            return .assign(.attribute(first, attribute), value, position)
        }
        var names = [first]
        while skip(symbol: ",") { names.append(try expectName()) }
        if current.kind == .blockEnd, names.count == 1 {
            _ = advance()
            let (body, _) = try parseNodes(until: ["endset"])
            try expect(.blockEnd)
            return .assignBlock(first, body)
        }
        try expect(.symbol("="))
        var value = try parseExpression()
        if names.count > 1, isSymbol(",") {
            var items = [value]
            while skip(symbol: ",") { items.append(try parseExpression()) }
            value = .list(items)
        }
        try expect(.blockEnd)
        return .assign(.names(names), value, position)
    }

    private mutating func parseMacro() throws -> Node {
        let name = try expectName()
        try expect(.symbol("("))
        var parameters: [(String, Expression?)] = []
        while !isSymbol(")") {
            let parameter = try expectName()
            parameters.append((parameter, skip(symbol: "=") ? try parseExpression() : nil))
            if !skip(symbol: ",") { break }
        }
        try expect(.symbol(")"))
        try expect(.blockEnd)
        let (body, _) = try parseNodes(until: ["endmacro"])
        if case .name = current.kind { _ = advance() }
        try expect(.blockEnd)
        return .macro(MacroDefinition(name: name, parameters: parameters, body: body))
    }

    // MARK: Expressions

    mutating func parseExpression() throws -> Expression {
        try enter()
        defer { nesting -= 1 }
        return try parseConditional(allowIf: true)
    }

    private mutating func parseConditional(allowIf: Bool) throws -> Expression {
        let value = try parseOr()
        guard allowIf, skip(name: "if") else { return value }
        let condition = try parseOr()
        let otherwise = skip(name: "else") ? try parseConditional(allowIf: true) : nil
        return .conditional(condition, then: value, otherwise: otherwise)
    }

    private mutating func parseOr() throws -> Expression {
        var left = try parseAnd()
        while skip(name: "or") { try countOperator(); left = .or(left, try parseAnd()) }
        return left
    }

    private mutating func parseAnd() throws -> Expression {
        var left = try parseNot()
        while skip(name: "and") { try countOperator(); left = .and(left, try parseNot()) }
        return left
    }

    private mutating func parseNot() throws -> Expression {
        if skip(name: "not") { try countOperator(); return .not(try parseNot()) }
        return try parseComparison()
    }

    private mutating func parseComparison() throws -> Expression {
        var left = try parseAdditive()
        while true {
            if case .symbol(let s) = current.kind, ["==", "!=", "<", ">", "<=", ">="].contains(s) {
                _ = advance()
                try countOperator()
                left = .binary(s, left, try parseAdditive())
            } else if skip(name: "in") {
                left = .binary("in", left, try parseAdditive())
            } else if isName("not"), index + 1 < tokens.count, tokens[index + 1].kind == .name("in") {
                index += 2
                left = .not(.binary("in", left, try parseAdditive()))
            } else {
                return left
            }
        }
    }

    private mutating func parseAdditive() throws -> Expression {
        var left = try parseConcat()
        while case .symbol(let s) = current.kind, s == "+" || s == "-" {
            _ = advance()
            try countOperator()
            left = .binary(s, left, try parseConcat())
        }
        return left
    }

    private mutating func parseConcat() throws -> Expression {
        var left = try parseMultiplicative()
        while skip(symbol: "~") { try countOperator(); left = .binary("~", left, try parseMultiplicative()) }
        return left
    }

    private mutating func parseMultiplicative() throws -> Expression {
        var left = try parsePower()
        while case .symbol(let s) = current.kind, ["*", "/", "//", "%"].contains(s) {
            _ = advance()
            try countOperator()
            left = .binary(s, left, try parsePower())
        }
        return left
    }

    private mutating func parsePower() throws -> Expression {
        var left = try parseUnary(withFilters: true)
        while skip(symbol: "**") { try countOperator(); left = .binary("**", left, try parseUnary(withFilters: true)) }
        return left
    }

    private mutating func parseUnary(withFilters: Bool) throws -> Expression {
        var value: Expression
        if skip(symbol: "-") {
            try countOperator()
            value = .negate(try parseUnary(withFilters: false))
        } else if skip(symbol: "+") {
            value = try parseUnary(withFilters: false)
        } else {
            value = try parsePostfix(try parsePrimary())
        }
        return withFilters ? try parseFiltersAndTests(value) : value
    }

    private mutating func parsePrimary() throws -> Expression {
        let token = advance()
        switch token.kind {
        case .name(let name):
            switch name {
            case "true", "True": return .literal(.bool(true))
            case "false", "False": return .literal(.bool(false))
            case "none", "None": return .literal(.none)
            default: return .variable(name)
            }
        case .string(var text):
            // Adjacent string literals join, as in Python.
            while case .string(let more) = current.kind { text += more; _ = advance() }
            return .literal(.string(text))
        case .int(let i): return .literal(.int(i))
        case .double(let d): return .literal(.double(d))
        case .symbol("("):
            if skip(symbol: ")") { return .list([]) }
            let first = try parseExpression()
            if isSymbol(",") {
                var items = [first]
                while skip(symbol: ","), !isSymbol(")") { items.append(try parseExpression()) }
                try expect(.symbol(")"))
                return .list(items)
            }
            try expect(.symbol(")"))
            return first
        case .symbol("["):
            var items: [Expression] = []
            while !isSymbol("]") {
                items.append(try parseExpression())
                if !skip(symbol: ",") { break }
            }
            try expect(.symbol("]"))
            return .list(items)
        case .symbol("{"):
            var pairs: [(Expression, Expression)] = []
            while !isSymbol("}") {
                let key = try parseExpression()
                try expect(.symbol(":"))
                pairs.append((key, try parseExpression()))
                if !skip(symbol: ",") { break }
            }
            try expect(.symbol("}"))
            return .dict(pairs)
        default:
            throw TemplateError("unexpected \(describe(token.kind))", at: token.position)
        }
    }

    private mutating func parsePostfix(_ base: Expression) throws -> Expression {
        var value = base
        while true {
            if isSymbol(".") || isSymbol("[") || isSymbol("(") { try countOperator() }
            if skip(symbol: ".") {
                if case .int(let i) = current.kind {
                    _ = advance()
                    value = .item(value, .literal(.int(i)))
                } else {
                    value = .attribute(value, try expectName())
                }
            } else if skip(symbol: "[") {
                value = try parseSubscript(value)
            } else if isSymbol("(") {
                let (args, kwargs) = try parseCallArguments()
                value = .call(value, args, kwargs)
            } else {
                return value
            }
        }
    }

    private mutating func parseSubscript(_ base: Expression) throws -> Expression {
        var parts: [Expression?] = [nil]
        var isSlice = false
        while !isSymbol("]") {
            if skip(symbol: ":") {
                isSlice = true
                parts.append(nil)
            } else {
                parts[parts.count - 1] = try parseExpression()
            }
        }
        try expect(.symbol("]"))
        guard isSlice else {
            guard let key = parts[0] else { throw error("empty subscript") }
            return .item(base, key)
        }
        return .slice(base, start: parts[0], stop: parts.count > 1 ? parts[1] : nil, step: parts.count > 2 ? parts[2] : nil)
    }

    private mutating func parseCallArguments() throws -> ([Expression], [(String, Expression)]) {
        try expect(.symbol("("))
        var args: [Expression] = [], kwargs: [(String, Expression)] = []
        while !isSymbol(")") {
            if case .name(let name) = current.kind, index + 1 < tokens.count, tokens[index + 1].kind == .symbol("=") {
                index += 2
                kwargs.append((name, try parseExpression()))
            } else {
                args.append(try parseExpression())
            }
            if !skip(symbol: ",") { break }
        }
        try expect(.symbol(")"))
        return (args, kwargs)
    }

    /// The name a filter block's captured output has inside its filter expression.
    static let filterBlockBody = " filter block body"

    private mutating func parseFiltersAndTests(_ base: Expression, startingWithFilter: Bool = false) throws -> Expression {
        var value = base
        var pendingFilter = startingWithFilter
        while true {
            if isSymbol("|") || isName("is") { try countOperator() }
            if pendingFilter || skip(symbol: "|") {
                pendingFilter = false
                let position = current.position
                let name = try expectName()
                guard Filters.known.contains(name) || conditionalDepth > 0 else { throw TemplateError("unknown filter '\(name)'", at: position) }
                var (args, kwargs): ([Expression], [(String, Expression)]) = ([], [])
                if isSymbol("(") { (args, kwargs) = try parseCallArguments() }
                value = .filter(value, name: name, args, kwargs)
            } else if skip(name: "is") {
                let negated = skip(name: "not")
                let position = current.position
                let name = try expectName()
                guard TestFunctions.known.contains(name) || conditionalDepth > 0 else { throw TemplateError("unknown test '\(name)'", at: position) }
                var args: [Expression] = []
                if isSymbol("(") {
                    args = try parseCallArguments().0
                } else if startsTestArgument() {
                    args = [try parsePostfix(try parsePrimary())]
                }
                value = .test(value, name: name, args, negated: negated)
            } else {
                return value
            }
        }
    }

    /// Whether a test takes an argument without parentheses, as in `is equalto 5`.
    private func startsTestArgument() -> Bool {
        switch current.kind {
        case .string, .int, .double: return true
        case .name(let n): return !["else", "or", "and", "if", "is", "in", "not"].contains(n)
        case .symbol(let s): return s == "[" || s == "{"
        default: return false
        }
    }
}
