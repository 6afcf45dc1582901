// A log file that rotates by size (FILE → FILE.1 → … → FILE.N, the oldest dropped) so the disk
// never fills, and reopens its path on request so an external logrotate's rename works too.
import Foundation

public final class RotatingLogFile: @unchecked Sendable {
    public let path: String
    let maxBytes: Int
    let backups: Int
    private let lock = NSLock()
    private var handle: FileHandle?
    private var size = 0

    public init(path: String, maxBytes: Int, backups: Int) throws {
        self.path = path
        self.maxBytes = maxBytes
        self.backups = backups
        try open()
    }

    private func open() throws {
        if !FileManager.default.fileExists(atPath: path) {
            guard FileManager.default.createFile(atPath: path, contents: nil) else {
                throw SettingsError("cannot create the log file \(path)")
            }
        }
        guard let opened = FileHandle(forWritingAtPath: path) else { throw SettingsError("cannot open the log file \(path) for writing") }
        size = Int(opened.seekToEndOfFile())
        handle = opened
    }

    public func write(_ line: String) {
        let data = Data(line.utf8)
        lock.lock()
        defer { lock.unlock() }
        if size > 0, size + data.count > maxBytes { rotate() }
        handle?.write(data)
        size += data.count
    }

    /// Starts a new file at `path` (after a logrotate rename, on SIGHUP).
    public func reopen() {
        lock.lock()
        defer { lock.unlock() }
        try? handle?.close()
        handle = nil
        try? open()
    }

    private func rotate() {
        try? handle?.close()
        handle = nil
        let files = FileManager.default
        try? files.removeItem(atPath: "\(path).\(backups)")
        if backups > 0 {
            for index in stride(from: backups - 1, through: 1, by: -1) where files.fileExists(atPath: "\(path).\(index)") {
                try? files.moveItem(atPath: "\(path).\(index)", toPath: "\(path).\(index + 1)")
            }
            try? files.moveItem(atPath: path, toPath: "\(path).1")
        } else {
            try? files.removeItem(atPath: path)
        }
        try? open()
    }
}
