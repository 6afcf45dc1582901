// Runs a parsed template: statements with Jinja's scoping (a for-loop iteration and a macro
// call get their own scope; `if` does not), within bounds on loop iterations, output, string and
// collection sizes, macro recursion and wall time, so no template (a request's included) can run away.
import Foundation

final class Scope {
    private var variables: [String: JinjaValue] = [:]
    let parent: Scope?

    init(parent: Scope?, _ variables: [String: JinjaValue] = [:]) {
        self.parent = parent
        self.variables = variables
    }

    func lookup(_ name: String) -> JinjaValue? {
        variables[name] ?? parent?.lookup(name)
    }

    func set(_ name: String, _ value: JinjaValue) {
        variables[name] = value
    }
}

/// Bounds that stop a runaway template with an error instead of hanging or exhausting memory.
/// The defaults are far above what any chat template needs for a conversation that fits a
/// context window, and low enough that a hostile template costs little memory and CPU.
public struct RenderLimits: Sendable {
    public var maxLoopIterations = 100_000
    public var maxOutputBytes = 32 << 20
    /// Largest string any expression may produce (concatenation, repetition, filters).
    public var maxStringBytes = 32 << 20
    /// Most items a list or dict made by an expression may hold.
    public var maxCollectionItems = 1_000_000
    public var maxCallDepth = 100
    public var maxSeconds = 2.0

    public init() {}
}

private enum ControlFlow { case normal, breakLoop, continueLoop }

final class JinjaInterpreter {
    let limits: RenderLimits
    private var iterations = 0
    private var depth = 0
    private let deadline: UInt64

    init(limits: RenderLimits) {
        self.limits = limits
        deadline = DispatchTime.now().uptimeNanoseconds + UInt64(max(0, limits.maxSeconds) * 1e9)
    }

    private func limitExceeded(_ message: String) -> EvaluationError {
        EvaluationError(message, isResourceLimit: true)
    }

    private func checkTime() throws {
        if DispatchTime.now().uptimeNanoseconds > deadline {
            throw limitExceeded("rendering took longer than \(limits.maxSeconds) seconds")
        }
    }

    /// Every value an expression makes is measured, so sizes cannot double their way past memory.
    private func checked(_ value: JinjaValue) throws -> JinjaValue {
        switch value {
        case .string(let text) where text.utf8.count > limits.maxStringBytes:
            throw limitExceeded("a string grew longer than \(limits.maxStringBytes) bytes")
        case .array(let items) where items.count > limits.maxCollectionItems:
            throw limitExceeded("a list grew longer than \(limits.maxCollectionItems) items")
        case .dict(let dict) where dict.count > limits.maxCollectionItems:
            throw limitExceeded("a dict grew larger than \(limits.maxCollectionItems) items")
        default:
            return value
        }
    }

    func render(_ nodes: [Node], scope: Scope) throws -> String {
        var output = ""
        _ = try execute(nodes, scope: scope, into: &output)
        return output
    }

    private func execute(_ nodes: [Node], scope: Scope, into output: inout String) throws -> ControlFlow {
        for node in nodes {
            let flow = try execute(node, scope: scope, into: &output)
            if flow != .normal { return flow }
            // Between statements there is no single place to blame: the error names the template's start.
            try located(.start) {
                if output.utf8.count > limits.maxOutputBytes {
                    throw limitExceeded("output is longer than \(limits.maxOutputBytes) bytes")
                }
                try checkTime()
            }
        }
        return .normal
    }

    private func execute(_ node: Node, scope: Scope, into output: inout String) throws -> ControlFlow {
        switch node {
        case .text(let text):
            output += text
        case .output(let expression, let position):
            output += try located(position) { try evaluate(expression, scope).text }
        case .conditional(let branches, let otherwise, let position):
            for (condition, body) in branches where try located(position, { try evaluate(condition, scope).isTruthy }) {
                return try execute(body, scope: scope, into: &output)
            }
            return try execute(otherwise, scope: scope, into: &output)
        case .loop(let targets, let iterable, let condition, let body, let otherwise, let position):
            try runLoop(targets: targets, iterable: iterable, condition: condition, body: body, otherwise: otherwise,
                        position: position, scope: scope, into: &output)
        case .assign(let target, let expression, let position):
            try located(position) { try assign(target, try evaluate(expression, scope), scope: scope) }
        case .assignBlock(let name, let body):
            var captured = ""
            _ = try execute(body, scope: scope, into: &captured)
            scope.set(name, .string(captured))
        case .filterBlock(let body, let filters, let position):
            var captured = ""
            _ = try execute(body, scope: scope, into: &captured)
            let blockScope = Scope(parent: scope, [JinjaParser.filterBlockBody: .string(captured)])
            output += try located(position) { try evaluate(filters, blockScope).text }
        case .macro(let definition):
            scope.set(definition.name, .callable(makeMacro(definition, scope: scope)))
        case .breakLoop:
            return .breakLoop
        case .continueLoop:
            return .continueLoop
        }
        return .normal
    }

    /// Gives evaluation errors raised inside a statement the statement's place in the template.
    private func located<T>(_ position: SourcePosition, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as EvaluationError {
            throw TemplateError(error.message, at: position, isResourceLimit: error.isResourceLimit)
        } catch let error as RaisedException {
            throw TemplateError("raise_exception: \(error.message)", at: position)
        }
    }

    private func runLoop(targets: [String], iterable: Expression, condition: Expression?, body: [Node], otherwise: [Node],
                         position: SourcePosition, scope: Scope, into output: inout String) throws {
        var items = try located(position) { try Operations.iterate(try evaluate(iterable, scope)) }
        if let condition {
            items = try items.filter { item in
                let filterScope = Scope(parent: scope)
                try located(position) { try bind(targets, to: item, in: filterScope) }
                return try located(position) { try evaluate(condition, filterScope).isTruthy }
            }
        }
        if items.isEmpty {
            _ = try execute(otherwise, scope: scope, into: &output)
            return
        }
        for (i, item) in items.enumerated() {
            iterations += 1
            if iterations > limits.maxLoopIterations {
                throw TemplateError("more than \(limits.maxLoopIterations) loop iterations", at: position, isResourceLimit: true)
            }
            try located(position) { try checkTime() }
            let iterationScope = Scope(parent: scope)
            try located(position) { try bind(targets, to: item, in: iterationScope) }
            iterationScope.set("loop", Self.loopVariable(index: i, items: items))
            if try execute(body, scope: iterationScope, into: &output) == .breakLoop { break }
        }
    }

    static func loopVariable(index i: Int, items: [JinjaValue]) -> JinjaValue {
        let count = items.count
        var loop = JinjaDict([
            ("index", .int(i + 1)), ("index0", .int(i)), ("revindex", .int(count - i)), ("revindex0", .int(count - i - 1)),
            ("first", .bool(i == 0)), ("last", .bool(i == count - 1)), ("length", .int(count)),
            ("previtem", i > 0 ? items[i - 1] : .undefined("previtem")),
            ("nextitem", i + 1 < count ? items[i + 1] : .undefined("nextitem")),
        ])
        loop["cycle"] = .callable(JinjaCallable(name: "cycle") { arguments in
            arguments.positional.isEmpty ? .none : arguments.positional[i % arguments.positional.count]
        })
        return .dict(loop)
    }

    private func bind(_ targets: [String], to value: JinjaValue, in scope: Scope) throws {
        if targets.count == 1 {
            scope.set(targets[0], value)
            return
        }
        let parts = try Operations.iterate(value)
        guard parts.count == targets.count else {
            throw EvaluationError("cannot unpack \(parts.count) values into \(targets.count) names")
        }
        for (name, part) in zip(targets, parts) { scope.set(name, part) }
    }

    private func assign(_ target: AssignmentTarget, _ value: JinjaValue, scope: Scope) throws {
        switch target {
        case .names(let names):
            try bind(names, to: value, in: scope)
        case .attribute(let name, let attribute):
            guard case .namespace(let namespace)? = scope.lookup(name) else {
                throw EvaluationError("cannot set attribute '\(attribute)' of '\(name)': only a namespace() takes attributes")
            }
            namespace.attributes[attribute] = value
        }
    }

    private func makeMacro(_ definition: MacroDefinition, scope: Scope) -> JinjaCallable {
        JinjaCallable(name: definition.name) { [unowned self] arguments in
            self.depth += 1
            defer { self.depth -= 1 }
            guard self.depth <= self.limits.maxCallDepth else {
                throw self.limitExceeded("macro calls nested deeper than \(self.limits.maxCallDepth)")
            }
            let callScope = Scope(parent: scope)
            for (i, (name, defaultValue)) in definition.parameters.enumerated() {
                if let value = arguments.value(i, name) {
                    callScope.set(name, value)
                } else {
                    callScope.set(name, try defaultValue.map { try self.evaluate($0, scope) } ?? .undefined(name))
                }
            }
            return .string(try self.render(definition.body, scope: callScope))
        }
    }

    // MARK: Expressions

    func evaluate(_ expression: Expression, _ scope: Scope) throws -> JinjaValue {
        try checked(try evaluateUnchecked(expression, scope))
    }

    private func evaluateUnchecked(_ expression: Expression, _ scope: Scope) throws -> JinjaValue {
        switch expression {
        case .literal(let value):
            return value
        case .variable(let name):
            return scope.lookup(name) ?? .undefined(name)
        case .attribute(let base, let name):
            return try Operations.attribute(try evaluate(base, scope), name)
        case .item(let base, let key):
            return try Operations.item(try evaluate(base, scope), try evaluate(key, scope))
        case .slice(let base, let start, let stop, let step):
            return try Operations.slice(try evaluate(base, scope), start: try start.map { try evaluate($0, scope) },
                                        stop: try stop.map { try evaluate($0, scope) }, step: try step.map { try evaluate($0, scope) })
        case .call(let callee, let args, let kwargs):
            let function = try evaluate(callee, scope)
            guard case .callable(let callable) = function else {
                if case .undefined(let name) = function { throw EvaluationError("'\(name)' is undefined") }
                throw EvaluationError("'\(function.typeName)' object is not callable")
            }
            return try callable.call(try arguments(args, kwargs, scope))
        case .filter(let base, let name, let args, let kwargs):
            return try Filters.apply(name, try evaluate(base, scope), try arguments(args, kwargs, scope), interpreter: self)
        case .test(let base, let name, let args, let negated):
            let result = try TestFunctions.apply(name, try evaluate(base, scope), try args.map { try evaluate($0, scope) })
            return .bool(result != negated)
        case .negate(let operand):
            return try Operations.binary("-", .int(0), try evaluate(operand, scope))
        case .not(let operand):
            return .bool(!(try evaluate(operand, scope).isTruthy))
        case .binary(let op, let left, let right):
            return try Operations.binary(op, try evaluate(left, scope), try evaluate(right, scope))
        case .and(let left, let right):
            let l = try evaluate(left, scope)
            return l.isTruthy ? try evaluate(right, scope) : l
        case .or(let left, let right):
            let l = try evaluate(left, scope)
            return l.isTruthy ? l : try evaluate(right, scope)
        case .conditional(let condition, let then, let otherwise):
            if try evaluate(condition, scope).isTruthy { return try evaluate(then, scope) }
            return try otherwise.map { try evaluate($0, scope) } ?? .undefined("else")
        case .list(let items):
            return .array(try items.map { try evaluate($0, scope) })
        case .dict(let pairs):
            var dict = JinjaDict()
            for (key, value) in pairs { dict.set(try evaluate(key, scope), try evaluate(value, scope)) }
            return .dict(dict)
        }
    }

    private func arguments(_ args: [Expression], _ kwargs: [(String, Expression)], _ scope: Scope) throws -> CallArguments {
        CallArguments(positional: try args.map { try evaluate($0, scope) }, named: try kwargs.map { ($0.0, try evaluate($0.1, scope)) })
    }
}
