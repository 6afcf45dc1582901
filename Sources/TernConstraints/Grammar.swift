// A context-free grammar over bytes: named rules of GrammarExpressions and the rule to start from.
// Compiling flattens it into alternatives of terminals and rule references, the form the
// matcher's stacks walk, and refuses left recursion (the matcher would never consume a byte).

public struct Grammar: Sendable, Equatable {
    public var rules: [String: GrammarExpression]
    public var root: String

    public init(rules: [String: GrammarExpression], root: String) {
        self.rules = rules
        self.root = root
    }

    /// A grammar of one expression.
    public init(_ expression: GrammarExpression) {
        self.init(rules: ["root": expression], root: "root")
    }
}

/// The flat form: every alternative of every rule is a run of elements ending in `.end`.
struct CompiledGrammar: Sendable {
    enum Element: Sendable {
        case bytes(ByteSet)
        case rule(Int32)
        case end
    }

    private(set) var elements: [Element] = []
    /// Where each alternative of each rule starts in `elements`.
    private(set) var alternatives: [[Int32]] = []
    let root: Int32

    init(_ grammar: Grammar) throws {
        var builder = Builder(source: grammar.rules)
        let root = try builder.rule(named: grammar.root)
        self.root = Int32(root)
        for rule in builder.rules {
            var starts: [Int32] = []
            for alternative in rule {
                starts.append(Int32(elements.count))
                elements += alternative.map { symbol in
                    switch symbol {
                    case .bytes(let set): return .bytes(set)
                    case .rule(let id): return .rule(Int32(id))
                    }
                }
                elements.append(.end)
            }
            alternatives.append(starts)
        }
        try Self.refuseLeftRecursion(builder.rules, names: builder.names)
    }

    static let maxRepetition = 10_000

    enum Symbol: Equatable {
        case bytes(ByteSet)
        case rule(Int)
    }

    /// Turns expressions into rules of alternatives; choices and repetitions inside a sequence become rules of their own.
    private struct Builder {
        let source: [String: GrammarExpression]
        var rules: [[[Symbol]]] = []
        var names: [String] = []
        var named: [String: Int] = [:]

        init(source: [String: GrammarExpression]) { self.source = source }

        mutating func rule(named name: String) throws -> Int {
            if let id = named[name] { return id }
            guard let expression = source[name] else { throw ConstraintError("the grammar has no rule '\(name)'") }
            let id = newRule(name)
            named[name] = id
            rules[id] = try alternatives(of: expression)
            return id
        }

        private mutating func newRule(_ name: String) -> Int {
            rules.append([])
            names.append(name)
            return rules.count - 1
        }

        private mutating func alternatives(of expression: GrammarExpression) throws -> [[Symbol]] {
            if case .choice(let options) = expression {
                return try options.flatMap { try alternatives(of: $0) }
            }
            return [try symbols(of: expression)]
        }

        private mutating func anonymous(_ alternatives: [[Symbol]], name: String) -> Int {
            let id = newRule(name)
            rules[id] = alternatives
            return id
        }

        private mutating func symbols(of expression: GrammarExpression) throws -> [Symbol] {
            switch expression {
            case .bytes(let set):
                return [.bytes(set)]
            case .sequence(let items):
                return try items.flatMap { try symbols(of: $0) }
            case .reference(let name):
                return [.rule(try rule(named: name))]
            case .choice(let options):
                if options.count == 1 { return try symbols(of: options[0]) }
                return [.rule(anonymous(try alternatives(of: expression), name: "(choice)"))]
            case .repeated(let item, let minimum, let maximum):
                guard minimum >= 0, maximum.map({ $0 >= minimum }) ?? true else {
                    throw ConstraintError("a repetition needs 0 <= min <= max")
                }
                // Counted repetitions are unrolled; a huge count would be a huge grammar.
                guard max(minimum, maximum ?? 0) <= CompiledGrammar.maxRepetition else {
                    throw ConstraintError("repetition counts above \(CompiledGrammar.maxRepetition) (maxLength, maxItems, {m,n}) are not supported")
                }
                let body = try symbols(of: item)
                var out = Array(repeating: body, count: minimum).flatMap { $0 }
                if let maximum {
                    // x{0,k}: a chain of optional rules, each one more x and the next optional part.
                    var tail: Int?
                    for _ in 0..<(maximum - minimum) {
                        let next = tail.map { body + [.rule($0)] } ?? body
                        tail = anonymous([next, []], name: "(optional)")
                    }
                    if let tail { out.append(.rule(tail)) }
                } else {
                    let loop = newRule("(repeat)")
                    rules[loop] = [body + [.rule(loop)], []]
                    out.append(.rule(loop))
                }
                return out
            }
        }
    }

    /// A rule that can reach itself without consuming a byte cannot be matched left to right.
    private static func refuseLeftRecursion(_ rules: [[[Symbol]]], names: [String]) throws {
        var nullable = Array(repeating: false, count: rules.count)
        var changed = true
        while changed {
            changed = false
            for (id, alternatives) in rules.enumerated() where !nullable[id] {
                let canBeEmpty = alternatives.contains { alternative in
                    alternative.allSatisfy { if case .rule(let r) = $0 { return nullable[r] } else { return false } }
                }
                if canBeEmpty { nullable[id] = true; changed = true }
            }
        }
        // Rules each rule can start with, before consuming anything.
        let leading: [[Int]] = rules.map { alternatives in
            var out: [Int] = []
            for alternative in alternatives {
                for symbol in alternative {
                    guard case .rule(let r) = symbol else { break }
                    out.append(r)
                    if !nullable[r] { break }
                }
            }
            return out
        }
        var mark = Array(repeating: 0, count: rules.count) // 0 unvisited, 1 on the path, 2 done
        func visit(_ id: Int) throws {
            if mark[id] == 2 { return }
            if mark[id] == 1 { throw ConstraintError("the grammar is left-recursive at rule '\(names[id])'") }
            mark[id] = 1
            for next in leading[id] { try visit(next) }
            mark[id] = 2
        }
        for id in rules.indices { try visit(id) }
    }

    func element(_ position: Int32) -> Element { elements[Int(position)] }

    func alternatives(ofRule rule: Int32) -> [Int32] { alternatives[Int(rule)] }
}
