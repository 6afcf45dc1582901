// The syntax tree of a parsed template: statements (Node) and expressions (Expression).

indirect enum Expression {
    case literal(JinjaValue)
    case variable(String)
    case attribute(Expression, String)
    case item(Expression, Expression)
    case slice(Expression, start: Expression?, stop: Expression?, step: Expression?)
    case call(Expression, [Expression], [(String, Expression)])
    case filter(Expression, name: String, [Expression], [(String, Expression)])
    case test(Expression, name: String, [Expression], negated: Bool)
    case negate(Expression)
    case not(Expression)
    case binary(String, Expression, Expression)
    case and(Expression, Expression)
    case or(Expression, Expression)
    case conditional(Expression, then: Expression, otherwise: Expression?)
    case list([Expression])
    case dict([(Expression, Expression)])
}

enum AssignmentTarget {
    case names([String])
    case attribute(String, String)
}

struct MacroDefinition {
    let name: String
    let parameters: [(String, Expression?)]
    let body: [Node]
}

indirect enum Node {
    case text(String)
    case output(Expression, SourcePosition)
    case conditional([(Expression, [Node])], otherwise: [Node], SourcePosition)
    case loop(targets: [String], iterable: Expression, condition: Expression?, body: [Node], otherwise: [Node], SourcePosition)
    case assign(AssignmentTarget, Expression, SourcePosition)
    case assignBlock(String, [Node])
    /// `{% filter ... %}`: the body's output bound to JinjaParser.filterBlockBody, then the expression.
    case filterBlock([Node], Expression, SourcePosition)
    case macro(MacroDefinition)
    case breakLoop(SourcePosition)
    case continueLoop(SourcePosition)
}
