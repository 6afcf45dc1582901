// Why a constraint (JSON schema, regex, grammar, choice) cannot be compiled; the server answers 400.

public struct ConstraintError: Error, CustomStringConvertible, Equatable, Sendable {
    public let message: String
    /// The JSON schema keyword or construct at fault, when there is one (a client can fix its schema).
    public let keyword: String?

    public init(_ message: String, keyword: String? = nil) {
        self.message = message
        self.keyword = keyword
    }

    static func unsupported(_ keyword: String, _ why: String) -> ConstraintError {
        ConstraintError("unsupported JSON schema keyword '\(keyword)': \(why)", keyword: keyword)
    }

    public var description: String { message }
}
