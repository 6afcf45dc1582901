// The one error type of the Formats layer: a message a user can act on, naming the file.

public struct FormatError: Error, CustomStringConvertible, Equatable {
    public let message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}
