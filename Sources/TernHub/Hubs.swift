// The two hubs' file listings: the Hugging Face Hub's model API (and its mirrors through
// HF_ENDPOINT) and ModelScope's repository API (MODELSCOPE_DOMAIN).
import Foundation
import TernFormats

public enum HubSource: String, Sendable, CaseIterable {
    case huggingface, modelscope, auto
}

public protocol ModelHub: Sendable {
    var http: HubHTTP { get }
    /// The repository's files at a revision (a branch, tag or commit).
    func snapshot(of repo: RepoID, revision: String) async throws -> RemoteSnapshot
}

extension ModelHub {
    func pathComponentEncoded(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "?#"))) ?? text
    }
}

public struct HuggingFaceHub: ModelHub {
    public let http: HubHTTP

    public init(environment: [String: String], token: String?) throws {
        let text = environment["HF_ENDPOINT"].flatMap { $0.isEmpty ? nil : $0 } ?? "https://huggingface.co"
        guard let endpoint = URL(string: text.hasSuffix("/") ? String(text.dropLast()) : text), endpoint.host != nil,
              ["http", "https"].contains(endpoint.scheme ?? "") else {
            throw HubError("HF_ENDPOINT '\(text)' is not an http(s) URL")
        }
        http = HubHTTP(endpoint: endpoint, token: token ?? environment["HF_TOKEN"].flatMap { $0.isEmpty ? nil : $0 })
    }

    public func snapshot(of repo: RepoID, revision: String) async throws -> RemoteSnapshot {
        let base = http.endpoint.absoluteString
        guard let url = URL(string: "\(base)/api/models/\(repo)/revision/\(pathComponentEncoded(revision))?blobs=true") else {
            throw HubError("revision '\(revision)' cannot be put in a URL")
        }
        let info = try await http.json(url)
        guard let commit = info["sha"]?.stringValue, let siblings = info["siblings"]?.arrayValue else {
            throw HubError("\(http.endpoint.host ?? "the hub") sent model info without sha and siblings")
        }
        let files = try siblings.map { sibling -> RemoteFile in
            guard let path = sibling["rfilename"]?.stringValue, let blob = sibling["blobId"]?.stringValue,
                  let url = URL(string: "\(base)/\(repo)/resolve/\(commit)/\(pathComponentEncoded(path))") else {
                throw HubError("\(http.endpoint.host ?? "the hub") listed a file without rfilename or blobId")
            }
            let lfs = sibling["lfs"]
            let sha256 = lfs?["sha256"]?.stringValue
            return RemoteFile(path: path, size: lfs?["size"]?.intValue ?? sibling["size"]?.intValue, sha256: sha256,
                              blobID: sha256 ?? blob, url: url)
        }
        return RemoteSnapshot(repo: repo, revision: revision, commit: commit, files: files)
    }
}

public struct ModelScopeHub: ModelHub {
    public let http: HubHTTP

    public init(environment: [String: String], token: String?) throws {
        var text = environment["MODELSCOPE_DOMAIN"].flatMap { $0.isEmpty ? nil : $0 } ?? "https://www.modelscope.cn"
        if !text.contains("://") { text = "https://" + text }
        guard let endpoint = URL(string: text.hasSuffix("/") ? String(text.dropLast()) : text), endpoint.host != nil else {
            throw HubError("MODELSCOPE_DOMAIN '\(text)' is not a host or URL")
        }
        http = HubHTTP(endpoint: endpoint, token: token ?? environment["MODELSCOPE_API_TOKEN"].flatMap { $0.isEmpty ? nil : $0 })
    }

    public func snapshot(of repo: RepoID, revision: String) async throws -> RemoteSnapshot {
        let base = "\(http.endpoint.absoluteString)/api/v1/models/\(repo)/repo"
        let query = revision.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed.subtracting(CharacterSet(charactersIn: "&=+"))) ?? revision
        guard let url = URL(string: "\(base)/files?Revision=\(query)&Recursive=true") else { throw HubError("bad revision '\(revision)'") }
        let listing = try await http.json(url)
        guard listing["Code"]?.intValue == 200, let entries = listing["Data"]?["Files"]?.arrayValue else {
            throw HubError("ModelScope answered: \(listing["Message"]?.stringValue ?? "no file list") for \(repo)")
        }
        let files = try entries.filter { $0["Type"]?.stringValue != "tree" }.map { entry -> RemoteFile in
            guard let path = entry["Path"]?.stringValue,
                  let encoded = path.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed.subtracting(CharacterSet(charactersIn: "&=+"))),
                  let url = URL(string: "\(base)?Revision=\(query)&FilePath=\(encoded)") else {
                throw HubError("ModelScope listed a file without a path")
            }
            let sha256 = entry["Sha256"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
            return RemoteFile(path: path, size: entry["Size"]?.intValue, sha256: sha256, blobID: sha256 ?? path, url: url)
        }
        // ModelScope's listing carries no commit id; the revision names the snapshot.
        return RemoteSnapshot(repo: repo, revision: revision, commit: revision, files: files)
    }
}
