// Paths to the committed fixtures (models, references, and real vocabularies with llama.cpp's test
// vectors, copied from the project's shared folder so a clone tests alone), and their contents.
import Foundation
import TernFormats

enum Fixtures {
    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let root = repoRoot.appendingPathComponent("Tests/Fixtures")
    static let vocab = root.appendingPathComponent("vocab")

    static let modelNames = ["llama2-spm", "llama3-bpe", "llama3-f16", "qwen2-bpe", "qwen2-bf16", "mistral-window"]

    static func model(_ name: String) -> URL { root.appendingPathComponent("models/\(name)") }

    /// Tiny checkpoints of the remote-code families, as their repositories lay them out (scripts/make_family_fixtures.py).
    static let familyNames = ["chatglm3-6b", "baichuan2-13b-chat", "baichuan2-7b-chat", "qwen-7b-chat"]

    static func family(_ name: String) -> URL { root.appendingPathComponent("families/\(name)") }

    static func reference(_ name: String) throws -> JSONValue {
        try JSONParser.parse(contentsOf: root.appendingPathComponent("references/\(name).json"))
    }

    static func referenceLogits(_ name: String) throws -> [Float] {
        let data = try Data(contentsOf: root.appendingPathComponent("references/\(name).logits.f32"))
        return data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
    }

    /// A fixture stored gzip-compressed (large files whose zeros compress well), unpacked once per
    /// test run into a temporary folder.
    static func gunzipped(_ relativePath: String) throws -> URL {
        unpackLock.lock()
        defer { unpackLock.unlock() }
        if let done = unpacked[relativePath] { return done }
        let target = try temporaryDirectory().appendingPathComponent(String((relativePath as NSString).lastPathComponent.dropLast(3)))
        let gzip = Process()
        gzip.executableURL = URL(fileURLWithPath: "/bin/sh")
        gzip.arguments = ["-c", "gzip -dc \"$0\" > \"$1\"", root.appendingPathComponent(relativePath).path, target.path]
        try gzip.run()
        gzip.waitUntilExit()
        guard gzip.terminationStatus == 0 else { throw FormatError("cannot gunzip \(relativePath)") }
        unpacked[relativePath] = target
        return target
    }

    nonisolated(unsafe) private static var unpacked: [String: URL] = [:]
    private static let unpackLock = NSLock()

    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("tern-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

extension JSONValue {
    var ints: [Int] { arrayValue?.compactMap(\.intValue) ?? [] }
}
