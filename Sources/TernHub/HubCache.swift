// Where downloads live, in the layouts the Python tools use so each reuses the other's files:
// Hugging Face's cache (HF_HUB_CACHE, else HF_HOME/hub, else ~/.cache/huggingface/hub:
// models--owner--name/{blobs/<id>, snapshots/<commit>/<path> -> ../../blobs/<id>, refs/<revision>})
// and ModelScope's (MODELSCOPE_CACHE, else ~/.cache/modelscope: models/owner/name, dots as "___").
import Foundation
#if canImport(Glibc)
import Glibc
#endif

public protocol HubCache: Sendable {
    /// Where a finished file's bytes go.
    func blobPath(_ file: RemoteFile, in snapshot: RemoteSnapshot) -> String
    /// Makes a downloaded snapshot visible (links, refs) and returns its folder.
    func publish(_ snapshot: RemoteSnapshot, files: [RemoteFile]) throws -> String
    /// The folder of a revision already cached, for offline use.
    func cachedSnapshot(of repo: RepoID, revision: String) -> String?
    /// A lock file for one blob, shared by every process using the cache.
    func lockPath(_ file: RemoteFile, in snapshot: RemoteSnapshot) -> String
}

public struct HuggingFaceCache: HubCache {
    public let root: String

    public init(environment: [String: String]) {
        if let cache = environment["HF_HUB_CACHE"], !cache.isEmpty {
            root = cache
        } else {
            let home = environment["HF_HOME"].flatMap { $0.isEmpty ? nil : $0 }
                ?? (NSHomeDirectory() as NSString).appendingPathComponent(".cache/huggingface")
            root = (home as NSString).appendingPathComponent("hub")
        }
    }

    func folder(_ repo: RepoID) -> String { (root as NSString).appendingPathComponent("models--\(repo.owner)--\(repo.name)") }

    public func blobPath(_ file: RemoteFile, in snapshot: RemoteSnapshot) -> String {
        "\(folder(snapshot.repo))/blobs/\(file.blobID)"
    }

    public func lockPath(_ file: RemoteFile, in snapshot: RemoteSnapshot) -> String {
        "\(root)/.locks/models--\(snapshot.repo.owner)--\(snapshot.repo.name)/\(file.blobID).lock"
    }

    public func publish(_ snapshot: RemoteSnapshot, files: [RemoteFile]) throws -> String {
        let fm = FileManager.default
        let base = folder(snapshot.repo), snapshotFolder = "\(base)/snapshots/\(snapshot.commit)"
        for file in files {
            let link = "\(snapshotFolder)/\(file.path)"
            try fm.createDirectory(atPath: (link as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            // Relative, as huggingface_hub makes them: one "../" per folder between the link and the repo folder.
            let depth = file.path.split(separator: "/").count + 1
            let target = String(repeating: "../", count: depth) + "blobs/\(file.blobID)"
            if (try? fm.destinationOfSymbolicLink(atPath: link)) == target { continue }
            // Made beside and renamed over, so another process publishing the same snapshot never sees it missing.
            let temporary = "\(link).\(ProcessInfo.processInfo.processIdentifier).tmp"
            try? fm.removeItem(atPath: temporary)
            try fm.createSymbolicLink(atPath: temporary, withDestinationPath: target)
            guard rename(temporary, link) == 0 else { throw HubError("cannot place \(link)") }
        }
        if snapshot.revision != snapshot.commit {
            try fm.createDirectory(atPath: "\(base)/refs", withIntermediateDirectories: true)
            try snapshot.commit.write(toFile: "\(base)/refs/\(snapshot.revision)", atomically: true, encoding: .utf8)
        }
        return snapshotFolder
    }

    public func cachedSnapshot(of repo: RepoID, revision: String) -> String? {
        let base = folder(repo)
        let commit = (try? String(contentsOfFile: "\(base)/refs/\(revision)", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
            ?? revision
        let path = "\(base)/snapshots/\(commit)"
        return FileManager.default.fileExists(atPath: path) ? path : nil
    }
}

public struct ModelScopeCache: HubCache {
    public let root: String

    public init(environment: [String: String]) {
        root = environment["MODELSCOPE_CACHE"].flatMap { $0.isEmpty ? nil : $0 }
            ?? (NSHomeDirectory() as NSString).appendingPathComponent(".cache/modelscope")
    }

    func folder(_ repo: RepoID) -> String {
        "\(root)/models/\(repo.owner)/\(repo.name.replacingOccurrences(of: ".", with: "___"))"
    }

    public func blobPath(_ file: RemoteFile, in snapshot: RemoteSnapshot) -> String { "\(folder(snapshot.repo))/\(file.path)" }

    public func lockPath(_ file: RemoteFile, in snapshot: RemoteSnapshot) -> String {
        "\(root)/.locks/\(snapshot.repo.owner)--\(snapshot.repo.name)/\(file.path.replacingOccurrences(of: "/", with: "--")).lock"
    }

    public func publish(_ snapshot: RemoteSnapshot, files: [RemoteFile]) throws -> String { folder(snapshot.repo) }

    public func cachedSnapshot(of repo: RepoID, revision: String) -> String? {
        FileManager.default.fileExists(atPath: "\(folder(repo))/config.json") ? folder(repo) : nil
    }
}
