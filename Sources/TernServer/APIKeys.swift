// The accepted API keys: those given by flag or environment, plus an optional key file (one
// key per line, '#' comments) read again on SIGHUP. Keys are never logged.
import Foundation
import Logging

public final class APIKeys: @unchecked Sendable {
    let fixed: [String]
    let file: String?
    private let logger: Logger
    private let lock = NSLock()
    private var fromFile: [String] = []

    /// Reads the key file now; an unreadable one is a startup error.
    public init(fixed: [String], file: String?, logger: Logger) throws {
        self.fixed = fixed
        self.file = file
        self.logger = logger
        if let file { fromFile = try Self.read(file) }
    }

    public init(fixed: [String], logger: Logger) {
        self.fixed = fixed
        file = nil
        self.logger = logger
    }

    public var all: [String] {
        lock.lock()
        defer { lock.unlock() }
        return fixed + fromFile
    }

    /// Re-reads the key file; an unreadable file keeps the keys in use.
    public func reload() {
        guard let file else { return }
        do {
            let keys = try Self.read(file)
            lock.lock()
            fromFile = keys
            lock.unlock()
            logger.info("API keys reloaded from \(file): \(keys.count) keys")
        } catch {
            logger.error("API keys not reloaded, the previous ones stay in use: \(error)")
        }
    }

    static func read(_ path: String) throws -> [String] {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw SettingsError("cannot read the API key file \(path): \(error.localizedDescription)")
        }
        return text.split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && !$0.hasPrefix("#") }
    }
}
