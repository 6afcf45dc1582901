// A compiled Jinja template and the global functions chat templates expect
// (range, namespace, dict, raise_exception, strftime_now).
import Foundation

public struct JinjaTemplate: @unchecked Sendable {
    private let nodes: [Node]
    public let source: String

    /// Parses the template; syntax errors name their line and column.
    public init(_ source: String) throws {
        self.source = source
        nodes = try JinjaParser.parse(source)
    }

    /// `now` is the moment strftime_now reports.
    public func render(_ context: [String: JinjaValue], limits: RenderLimits = RenderLimits(), now: Date = Date()) throws -> String {
        let interpreter = JinjaInterpreter(limits: limits)
        var functions = Self.globals
        functions["strftime_now"] = Self.function("strftime_now") { args in .string(Self.formatted(args.positional.first?.text ?? "", at: now)) }
        let globals = Scope(parent: nil, functions)
        return try interpreter.render(nodes, scope: Scope(parent: globals, context))
    }

    static let globals: [String: JinjaValue] = [
        "range": function("range") { args in
            let numbers = try args.positional.map { value -> Int in
                guard case .int(let i) = value else { throw EvaluationError("range() takes integers") }
                return i
            }
            let (start, stop, step): (Int, Int, Int)
            switch numbers.count {
            case 1: (start, stop, step) = (0, numbers[0], 1)
            case 2: (start, stop, step) = (numbers[0], numbers[1], 1)
            case 3: (start, stop, step) = (numbers[0], numbers[1], numbers[2])
            default: throw EvaluationError("range() takes 1 to 3 arguments")
            }
            guard step != 0 else { throw EvaluationError("range() step must not be zero") }
            let count = max(0, (stop - start + step - (step > 0 ? 1 : -1)) / step)
            guard count <= 100_000 else { throw EvaluationError("range() of \(count) items is too large (at most 100000)", isResourceLimit: true) }
            return .array(stride(from: start, to: stop, by: step).map { .int($0) })
        },
        "namespace": function("namespace") { args in
            var attributes = JinjaDict()
            if case .dict(let initial)? = args.positional.first { attributes = initial }
            for (key, value) in args.named { attributes[key] = value }
            return .namespace(JinjaNamespace(attributes))
        },
        "dict": function("dict") { args in
            var dict = JinjaDict()
            if case .dict(let initial)? = args.positional.first { dict = initial }
            for (key, value) in args.named { dict[key] = value }
            return .dict(dict)
        },
        "raise_exception": function("raise_exception") { args in
            throw RaisedException(message: args.positional.first?.text ?? "")
        },
    ]

    private static func function(_ name: String, _ body: @escaping (CallArguments) throws -> JinjaValue) -> JinjaValue {
        .callable(JinjaCallable(name: name, call: body))
    }

    static func formatted(_ format: String, at date: Date) -> String {
        var seconds = time_t(date.timeIntervalSince1970)
        var local = tm()
        localtime_r(&seconds, &local)
        var buffer = [Int8](repeating: 0, count: 256)
        let length = strftime(&buffer, buffer.count, format, &local)
        return String(decoding: buffer.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
