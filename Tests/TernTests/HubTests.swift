// The pieces of `tern pull` that need no server: SHA-256 against FIPS 180-4's test vectors,
// repository ids, and which files a repository's listing gives Tern.
import Foundation
import Testing
@testable import TernHub

@Suite struct HubTests {
    @Test func sha256MatchesTheStandardsVectors() {
        func digest(_ bytes: [UInt8], pieces: Int = 1) -> String {
            var hasher = SHA256Hasher()
            let step = max(1, bytes.count / pieces)
            for start in stride(from: 0, to: bytes.count, by: step) { hasher.update(Array(bytes[start..<min(start + step, bytes.count)])) }
            return hasher.finish()
        }
        #expect(digest([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(digest(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        let twoBlocks = Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)
        #expect(digest(twoBlocks, pieces: 7) == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        let million = [UInt8](repeating: 0x61, count: 1_000_000)
        #expect(digest(million, pieces: 13) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test func repositoryIdsAreOwnerAndName() {
        #expect(RepoID("Qwen/Qwen2.5-0.5B-Instruct")?.description == "Qwen/Qwen2.5-0.5B-Instruct")
        for text in ["Qwen", "a/b/c", "./model", "/data/models/x", "../x", "a/..", "owner/na me", "https://x/y", "-a/b"] {
            #expect(RepoID(text) == nil, "\(text)")
        }
    }

    static func file(_ path: String) -> RemoteFile {
        RemoteFile(path: path, size: 1, sha256: nil, blobID: path, url: URL(string: "http://hub.invalid/\(path)")!)
    }

    @Test func defaultSelectionIsWhatTernLoads() throws {
        let listing = ["config.json", "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors", "model.safetensors.index.json",
                       "pytorch_model.bin", "tokenizer.json", "tokenizer_config.json", "README.md", "onnx/model.onnx",
                       "original/consolidated.safetensors", "generation_config.json"].map(Self.file)
        let chosen = try FileSelection().choose(listing).map(\.path)
        #expect(chosen == ["config.json", "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors", "model.safetensors.index.json",
                           "tokenizer.json", "tokenizer_config.json", "generation_config.json"])
        // Without safetensors the PyTorch files are the weights.
        let torch = try FileSelection().choose(["config.json", "pytorch_model.bin", "tokenizer.model", "flax_model.msgpack"].map(Self.file)).map(\.path)
        #expect(torch == ["config.json", "pytorch_model.bin", "tokenizer.model"])
        let excluded = try FileSelection(exclude: ["tokenizer*"]).choose(listing).map(\.path)
        #expect(!excluded.contains("tokenizer.json"))
    }
}
