// What every `--model` value means: a local folder or file as it is; otherwise a repository id
// (owner/name) served from the caches, downloaded first unless downloads are off or HF_HUB_OFFLINE is set.
import Foundation

public struct ModelLocator: Sendable {
    public let puller: ModelPuller

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        puller = ModelPuller(environment: environment)
    }

    /// The repository id a value names, when it is one and no local path of that name exists.
    public func repository(_ value: String) -> RepoID? {
        FileManager.default.fileExists(atPath: value) ? nil : RepoID(value)
    }

    public func locate(_ value: String, download: Bool) async throws -> String {
        guard let repo = repository(value) else { return value }
        for source in [HubSource.huggingface, .modelscope] {
            let revision = source == .modelscope ? "master" : "main"
            if let folder = puller.cache(for: source).cachedSnapshot(of: repo, revision: revision) { return folder }
        }
        guard download, !puller.offline else {
            throw HubError("\(repo) is not in the cache (\(puller.offline ? "HF_HUB_OFFLINE is set" : "downloads are off")); fetch it with: tern pull \(repo)")
        }
        return try await puller.pull(PullRequest(repo: repo.description))
    }

    /// `locate` for synchronous callers (the CLI's commands), waiting for the download.
    public func locateWaiting(_ value: String, download: Bool) throws -> String {
        guard repository(value) != nil else { return value }
        let box = ResultBox()
        let done = DispatchSemaphore(value: 0)
        Task {
            do { box.result = .success(try await locate(value, download: download)) } catch { box.result = .failure(error) }
            done.signal()
        }
        done.wait()
        return try box.result!.get()
    }
}

private final class ResultBox: @unchecked Sendable {
    var result: Result<String, Error>?
}
