// The models in the download caches (`tern list`) and their removal (`tern rm`).
import Foundation

public struct CachedModel: Sendable {
    public let repo: String
    public let source: HubSource
    public let folder: String
    public let bytes: Int
}

public struct CacheInventory: Sendable {
    let huggingFace: HuggingFaceCache
    let modelScope: ModelScopeCache

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        huggingFace = HuggingFaceCache(environment: environment)
        modelScope = ModelScopeCache(environment: environment)
    }

    public func models() -> [CachedModel] {
        let fm = FileManager.default
        var found: [CachedModel] = []
        for entry in (try? fm.contentsOfDirectory(atPath: huggingFace.root)) ?? [] where entry.hasPrefix("models--") {
            let parts = entry.dropFirst("models--".count).components(separatedBy: "--")
            guard parts.count == 2 else { continue }
            let folder = "\(huggingFace.root)/\(entry)"
            found.append(CachedModel(repo: parts.joined(separator: "/"), source: .huggingface, folder: folder, bytes: Self.bytes(in: folder)))
        }
        let modelScopeRoot = "\(modelScope.root)/models"
        for owner in (try? fm.contentsOfDirectory(atPath: modelScopeRoot)) ?? [] {
            for name in (try? fm.contentsOfDirectory(atPath: "\(modelScopeRoot)/\(owner)")) ?? [] {
                let folder = "\(modelScopeRoot)/\(owner)/\(name)"
                found.append(CachedModel(repo: "\(owner)/\(name.replacingOccurrences(of: "___", with: "."))", source: .modelscope,
                                         folder: folder, bytes: Self.bytes(in: folder)))
            }
        }
        return found.sorted { ($0.repo, $0.source.rawValue) < ($1.repo, $1.source.rawValue) }
    }

    /// Removes every cached copy of a repository; an error when there is none.
    public func remove(_ repo: String) throws -> [CachedModel] {
        let removed = models().filter { $0.repo == repo }
        guard !removed.isEmpty else { throw HubError("\(repo) is not in the cache (tern list shows what is)") }
        for model in removed { try FileManager.default.removeItem(atPath: model.folder) }
        return removed
    }

    /// Bytes of the regular files under a folder (symbolic links, as a snapshot's, not counted twice).
    static func bytes(in folder: String) -> Int {
        let fm = FileManager.default
        var total = 0
        for case let relative as String in fm.enumerator(atPath: folder) ?? FileManager.DirectoryEnumerator() {
            let attributes = try? fm.attributesOfItem(atPath: "\(folder)/\(relative)")
            if attributes?[.type] as? FileAttributeType == .typeRegular { total += attributes?[.size] as? Int ?? 0 }
        }
        return total
    }
}
