// Download progress: a bar redrawn in place on a terminal (bytes, rate, ETA, per file and in
// all), plain lines every few seconds otherwise (logs of a pod's init container).
import Foundation
import TernFormats
#if canImport(Glibc)
import Glibc
#endif

final class DownloadProgress: @unchecked Sendable {
    private let lock = NSLock()
    private let total: Int
    private var done = 0
    private var fileDone: [String: Int] = [:]
    private let fileSizes: [String: Int]
    private let start = Date()
    private var lastPrint = Date.distantPast
    /// Bytes that were already on disk when this run started (not counted in the rate).
    private var resumedBytes = 0
    private let terminal = isatty(STDERR_FILENO) == 1
    private let output = FileHandle.standardError

    init(files: [RemoteFile]) {
        fileSizes = Dictionary(files.map { ($0.path, $0.size ?? 0) }, uniquingKeysWith: { a, _ in a })
        total = files.reduce(0) { $0 + ($1.size ?? 0) }
    }

    func skipped(_ file: RemoteFile) { add(file.size ?? 0, to: file, counted: false) }

    /// Bytes found on disk from an earlier run (negative when a part had to start over).
    func resumed(_ bytes: Int, of file: RemoteFile, firstAttempt: Bool) {
        guard firstAttempt || bytes < 0 else { return }
        add(bytes, to: file, counted: false)
    }

    func received(_ bytes: Int, of file: RemoteFile) { add(bytes, to: file, counted: true) }

    func finished(_ file: RemoteFile) {
        lock.lock()
        defer { lock.unlock() }
        if !terminal { write("\(file.path): done (\(formatBytes(fileSizes[file.path] ?? 0)))\n") }
    }

    func note(_ text: String) {
        lock.lock()
        defer { lock.unlock() }
        write((terminal ? "\r\u{1B}[K" : "") + text + "\n")
    }

    /// The last line once every file is in place.
    func summary() -> String {
        lock.lock()
        defer { lock.unlock() }
        let seconds = Date().timeIntervalSince(start)
        return "\(formatBytes(done)) in \(String(format: "%.1f", seconds)) s (\(formatBytes(Int(Double(done - resumedBytes) / max(seconds, 0.001))))/s)"
    }

    private func add(_ bytes: Int, to file: RemoteFile, counted: Bool) {
        lock.lock()
        defer { lock.unlock() }
        done += bytes
        if !counted { resumedBytes += bytes }
        fileDone[file.path, default: 0] += bytes
        let now = Date()
        guard now.timeIntervalSince(lastPrint) >= (terminal ? 0.2 : 5) else { return }
        lastPrint = now
        let rate = Double(done - resumedBytes) / max(now.timeIntervalSince(start), 0.001)
        let eta = rate > 0 && total > done ? String(format: " ETA %.0f s", Double(total - done) / rate) : ""
        let fraction = total > 0 ? Double(done) / Double(total) : 0
        let mine = fileDone[file.path] ?? 0
        let line = "\(file.path) \(formatBytes(mine))/\(formatBytes(fileSizes[file.path] ?? 0)) | all \(formatBytes(done))/\(formatBytes(total))"
            + " \(String(format: "%.0f", fraction * 100))% \(formatBytes(Int(rate)))/s\(eta)"
        if terminal {
            let width = 20, filled = Int(fraction * Double(width))
            write("\r\u{1B}[K[" + String(repeating: "#", count: filled) + String(repeating: " ", count: width - filled) + "] " + line)
        } else {
            write(line + "\n")
        }
    }

    private func write(_ text: String) { output.write(Data(text.utf8)) }
}
