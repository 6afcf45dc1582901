// What a hub says a repository holds at a revision: the commit and every file with its size,
// checksum and download address.
import Foundation

/// "owner/name" as both hubs write repository ids.
public struct RepoID: Hashable, Sendable, CustomStringConvertible {
    public let owner: String
    public let name: String

    /// nil for text that is not an id (a path, a URL, three parts, odd characters).
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2 else { return nil }
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "._-"))
        for part in parts {
            guard !part.isEmpty, part.count <= 96, !part.hasPrefix("."), !part.hasPrefix("-"), !part.contains(".."),
                  part.unicodeScalars.allSatisfy({ $0.isASCII && allowed.contains($0) }) else { return nil }
        }
        owner = String(parts[0])
        name = String(parts[1])
    }

    public var description: String { "\(owner)/\(name)" }
}

public struct RemoteFile: Sendable {
    /// Path inside the repository ("tokenizer.json", "onnx/model.onnx").
    public let path: String
    public let size: Int?
    /// Published SHA-256 (LFS files on the Hugging Face Hub, every file on ModelScope).
    public let sha256: String?
    /// The name the Hugging Face cache stores the bytes under: the LFS sha256, else the git blob id.
    public let blobID: String
    public let url: URL
}

public struct RemoteSnapshot: Sendable {
    public let repo: RepoID
    public let revision: String
    public let commit: String
    public let files: [RemoteFile]
}
