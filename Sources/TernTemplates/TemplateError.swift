// Errors of the template engine, naming the line and column of the template they concern.

public struct TemplateError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public let line: Int
    public let column: Int
    /// The template ran into one of its render limits (size, iterations, time), whatever its input.
    public let isResourceLimit: Bool

    public init(_ message: String, at position: SourcePosition, isResourceLimit: Bool = false) {
        self.message = message
        line = position.line
        column = position.column
        self.isResourceLimit = isResourceLimit
    }

    public var description: String { "chat template error at line \(line), column \(column): \(message)" }
}

public struct SourcePosition: Equatable, Sendable {
    public let line: Int
    public let column: Int

    static let start = SourcePosition(line: 1, column: 1)
}

/// An evaluation error before its position is known; the statement running it adds the place.
struct EvaluationError: Error {
    let message: String
    let isResourceLimit: Bool
    init(_ message: String, isResourceLimit: Bool = false) {
        self.message = message
        self.isResourceLimit = isResourceLimit
    }
}

/// raise_exception() from the template itself: its message is shown as the template wrote it.
struct RaisedException: Error {
    let message: String
}
