// `tern pull`: a repository's files at a revision from the Hugging Face Hub (or a mirror) or
// ModelScope into the matching cache, or straight from the cache when offline.
import AsyncHTTPClient
import Foundation

public struct PullRequest: Sendable {
    public var repo: String
    public var revision = "main"
    public var selection = FileSelection()
    public var source = HubSource.auto
    public var token: String?
    /// Also put real copies of the files here (as huggingface_hub's local_dir does).
    public var localDirectory: String?
    public var tuning = DownloadTuning()

    public init(repo: String) { self.repo = repo }
}

public struct ModelPuller: Sendable {
    public let environment: [String: String]

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) { self.environment = environment }

    /// HF_HUB_OFFLINE=1 (huggingface_hub's switch): nothing leaves the machine.
    public var offline: Bool { ["1", "true", "yes", "on"].contains((environment["HF_HUB_OFFLINE"] ?? "").lowercased()) }

    /// The folder holding the repository's files, downloading what is missing unless offline.
    public func pull(_ request: PullRequest) async throws -> String {
        guard let repo = RepoID(request.repo) else { throw HubError("'\(request.repo)' is not a repository id (owner/name)") }
        let sources: [HubSource] = request.source == .auto ? [.huggingface, .modelscope] : [request.source]
        if offline {
            for source in sources {
                if let folder = cache(for: source).cachedSnapshot(of: repo, revision: request.revision) {
                    return try place(folder, into: request.localDirectory)
                }
            }
            throw HubError("\(repo) (\(request.revision)) is not in the cache, and HF_HUB_OFFLINE is set")
        }
        var failures: [String] = []
        for source in sources {
            let hub = try self.hub(for: source, token: request.token)
            let snapshot: RemoteSnapshot
            do {
                snapshot = try await hub.snapshot(of: repo, revision: request.revision)
            } catch let error as HubError {
                throw error  // the hub answered: no fallback hides a wrong id or a missing token
            } catch {
                // Unreachable: try the next source (auto falls back from Hugging Face to ModelScope).
                failures.append("\(hub.http.endpoint.host ?? source.rawValue): \(error)")
                continue
            }
            let folder = try await download(snapshot, selection: request.selection, hub: hub, cache: cache(for: source), tuning: request.tuning)
            return try place(folder, into: request.localDirectory)
        }
        throw HubError("no hub could be reached: " + failures.joined(separator: "; "))
    }

    func hub(for source: HubSource, token: String?) throws -> ModelHub {
        source == .modelscope ? try ModelScopeHub(environment: environment, token: token) : try HuggingFaceHub(environment: environment, token: token)
    }

    func cache(for source: HubSource) -> HubCache {
        source == .modelscope ? ModelScopeCache(environment: environment) : HuggingFaceCache(environment: environment)
    }

    private func download(_ snapshot: RemoteSnapshot, selection: FileSelection, hub: ModelHub, cache: HubCache, tuning: DownloadTuning)
        async throws -> String {
        let files = try selection.choose(snapshot.files)
        let progress = DownloadProgress(files: files)
        for file in files {
            try await FileDownload(file: file, destination: cache.blobPath(file, in: snapshot), lockPath: cache.lockPath(file, in: snapshot),
                                   http: hub.http, tuning: tuning, progress: progress).run()
        }
        let folder = try cache.publish(snapshot, files: files)
        progress.note("\(snapshot.repo)@\(snapshot.commit.prefix(12)): \(files.count) files, \(progress.summary()) -> \(folder)")
        return folder
    }

    /// The cached folder itself, or `directory` filled with real copies of its files.
    private func place(_ folder: String, into directory: String?) throws -> String {
        guard let directory else { return folder }
        let fm = FileManager.default
        guard let walker = fm.enumerator(atPath: folder) else { throw HubError("cannot read \(folder)") }
        for case let relative as String in walker {
            let source = (folder as NSString).appendingPathComponent(relative)
            var isDirectory: ObjCBool = false
            guard fm.fileExists(atPath: source, isDirectory: &isDirectory), !isDirectory.boolValue else { continue }
            let target = (directory as NSString).appendingPathComponent(relative)
            try fm.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try? fm.removeItem(atPath: target)
            try fm.copyItem(atPath: (source as NSString).resolvingSymlinksInPath, toPath: target)
        }
        return directory
    }
}
