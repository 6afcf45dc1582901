// One file from a hub into the cache: split into ranged parts fetched side by side for large
// files, each part resumed from what an earlier (killed) run left, retried with backoff on
// transient failures, the whole checked against the published size and SHA-256 and only then
// renamed into place. A lock file keeps two processes sharing the cache from fetching it twice.
import AsyncHTTPClient
import Foundation
import NIOCore
#if canImport(Glibc)
import Glibc
#endif

public struct DownloadTuning: Sendable {
    /// Files larger than this are fetched in `parts` ranges at once.
    public var splitAbove = 64 << 20
    public var parts = 4
    public var attempts = 6
    /// Seconds before the first retry; doubled after each.
    public var backoff = 0.5

    public init() {}
}

struct FileDownload {
    let file: RemoteFile
    let destination: String
    let lockPath: String
    let http: HubHTTP
    let tuning: DownloadTuning
    let progress: DownloadProgress

    func run() async throws {
        let fm = FileManager.default
        if fm.fileExists(atPath: destination) {
            progress.skipped(file)
            return
        }
        try fm.createDirectory(atPath: (destination as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let lock = try FileLock(path: lockPath)
        defer { lock.release() }
        // Another process may have finished it while this one waited for the lock.
        if fm.fileExists(atPath: destination) {
            progress.skipped(file)
            return
        }
        let ranges = partRanges()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (index, range) in ranges.enumerated() {
                group.addTask { try await fetchPart(index: index, range: range, count: ranges.count) }
            }
            try await group.waitForAll()
        }
        try assembleAndVerify(parts: ranges.count)
    }

    /// Byte ranges of the parts; one open-ended part when the size is unknown.
    private func partRanges() -> [Range<Int>?] {
        guard let size = file.size else { return [nil] }
        let count = size > tuning.splitAbove ? tuning.parts : 1
        return (0..<count).map { i in (size * i / count)..<(size * (i + 1) / count) }
    }

    private func partPath(_ index: Int) -> String { "\(destination).incomplete.part\(index)" }

    private func fetchPart(index: Int, range: Range<Int>?, count: Int) async throws {
        let path = partPath(index)
        if !FileManager.default.fileExists(atPath: path) { FileManager.default.createFile(atPath: path, contents: nil) }
        var delay = tuning.backoff
        for attempt in 1...tuning.attempts {
            let have = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
            progress.resumed(have, of: file, firstAttempt: attempt == 1)
            if let range, have >= range.count { return }
            do {
                try await transfer(into: path, from: (range?.lowerBound ?? 0) + have, to: range.map { $0.upperBound - 1 }, have: have,
                                   wholeFile: count == 1)
                if let range, ((try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0) < range.count {
                    throw TransientFailure(description: "the transfer of \(file.path) ended early")
                }
                return
            } catch let error where !(error is HubError) && attempt < tuning.attempts {
                progress.note("\(file.path): \(error); retrying in \(String(format: "%.1f", delay)) s")
                try await Task.sleep(nanoseconds: UInt64(delay * 1e9))
                delay *= 2
            }
        }
    }

    /// GETs bytes `from`...`to` (to the end when nil) and appends them to the part file.
    private func transfer(into path: String, from start: Int, to end: Int?, have: Int, wholeFile: Bool) async throws {
        let range = start > 0 || end != nil ? [("Range", "bytes=\(start)-\(end.map(String.init) ?? "")")] : []
        let (response, url) = try await http.response(file.url, headers: range, timeout: .hours(24))
        let code = response.status.code
        if code >= 500 || code == 429 { throw TransientFailure(description: "\(url.host ?? "the server") answered HTTP \(code)") }
        guard code == 200 || code == 206 else { throw HubHTTP.statusError(code, url: file.url) }
        if let type = response.headers.first(name: "Content-Type"), type.hasPrefix("text/html"), !file.path.hasSuffix(".html") {
            throw HubError("\(url.host ?? "the server") sent an HTML page instead of \(file.path) (a login or error page of a mirror?)")
        }
        guard let handle = FileHandle(forWritingAtPath: path) else { throw HubError("cannot write \(path)") }
        defer { try? handle.close() }
        if code == 200, !range.isEmpty {
            // The server ignored the range: only a whole-file part can start over.
            guard wholeFile else { throw HubError("\(url.host ?? "the server") does not serve byte ranges of \(file.path)") }
            try handle.truncate(atOffset: 0)
            progress.resumed(-have, of: file, firstAttempt: false)
        } else {
            try handle.seekToEnd()
        }
        for try await chunk in response.body {
            try handle.write(contentsOf: Data(chunk.readableBytesView))
            progress.received(chunk.readableBytes, of: file)
        }
    }

    private func assembleAndVerify(parts: Int) throws {
        let fm = FileManager.default
        let incomplete = "\(destination).incomplete"
        try? fm.removeItem(atPath: incomplete)
        if parts == 1 {
            try fm.moveItem(atPath: partPath(0), toPath: incomplete)
        } else {
            fm.createFile(atPath: incomplete, contents: nil)
            guard let output = FileHandle(forWritingAtPath: incomplete) else { throw HubError("cannot write \(incomplete)") }
            defer { try? output.close() }
            for index in 0..<parts {
                guard let input = FileHandle(forReadingAtPath: partPath(index)) else { throw HubError("lost part \(index) of \(file.path)") }
                while let chunk = try input.read(upToCount: 8 << 20), !chunk.isEmpty { try output.write(contentsOf: chunk) }
                try input.close()
            }
        }
        let size = (try fm.attributesOfItem(atPath: incomplete)[.size] as? Int) ?? -1
        var problem: String?
        if let expected = file.size, size != expected {
            problem = "\(file.path) has \(size) bytes, the hub says \(expected)"
        } else if let expected = file.sha256 {
            let actual = try SHA256Hasher.file(incomplete)
            if actual != expected.lowercased() { problem = "\(file.path) has SHA-256 \(actual), the hub says \(expected)" }
        }
        for index in 0..<parts { try? fm.removeItem(atPath: partPath(index)) }
        if let problem {
            try? fm.removeItem(atPath: incomplete)
            throw HubError("\(problem); the download was discarded (run again to fetch it anew)")
        }
        try fm.moveItem(atPath: incomplete, toPath: destination)
        progress.finished(file)
    }
}

/// An exclusive lock on a file (flock), held until released; the process's exit releases it too.
final class FileLock {
    private let descriptor: Int32

    init(path: String) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        descriptor = open(path, O_CREAT | O_RDWR, 0o644)
        guard descriptor >= 0 else { throw HubError("cannot open lock file \(path)") }
        if flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            FileHandle.standardError.write(Data("waiting for another download of the same file (\(path))\n".utf8))
            guard flock(descriptor, LOCK_EX) == 0 else { throw HubError("cannot lock \(path)") }
        }
    }

    func release() {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }
}
