// SHA-256 of bytes and files, hex-encoded as hubs publish it.
import CTernDigest
import Foundation

public struct SHA256Hasher {
    private var context = tern_sha256()

    public init() { tern_sha256_init(&context) }

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress else { return }
        tern_sha256_update(&context, base, bytes.count)
    }

    public mutating func update(_ bytes: [UInt8]) { bytes.withUnsafeBytes { update($0) } }

    /// The digest as 64 lowercase hex digits.
    public mutating func finish() -> String {
        var digest = [UInt8](repeating: 0, count: 32)
        tern_sha256_final(&context, &digest)
        return digest.map { String(format: "%02x", $0) }.joined()
    }

    /// The digest of a file's bytes, read in 4 MiB pieces.
    public static func file(_ path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw HubError("cannot read \(path)") }
        defer { try? handle.close() }
        var hasher = SHA256Hasher()
        while let chunk = try handle.read(upToCount: 4 << 20), !chunk.isEmpty {
            chunk.withUnsafeBytes { hasher.update($0) }
        }
        return hasher.finish()
    }
}
