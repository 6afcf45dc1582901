// Errors of downloads and caches: one clear sentence each, never a token.
public struct HubError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
