// Which files of a repository to fetch: what Tern loads (weights, config, tokenizer, generation
// and chat-template files), or what --include / --exclude name with shell globs.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

public struct FileSelection: Sendable {
    public var include: [String]
    public var exclude: [String]

    public init(include: [String] = [], exclude: [String] = []) {
        self.include = include
        self.exclude = exclude
    }

    /// Files Tern reads besides the weights.
    static let companions = ["config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json", "tokenizer.model",
                             "special_tokens_map.json", "chat_template.jinja", "chat_template.json", "qwen.tiktoken",
                             "quantize_config.json", "quant_config.json", "modeling_baichuan.py"]

    /// The files to fetch, or an error that says what to choose (a GGUF repository's quantizations).
    public func choose(_ files: [RemoteFile]) throws -> [RemoteFile] {
        func matches(_ path: String, _ patterns: [String]) -> Bool { patterns.contains { fnmatch($0, path, 0) == 0 } }
        if !include.isEmpty {
            let chosen = files.filter { matches($0.path, include) && !matches($0.path, exclude) }
            guard !chosen.isEmpty else { throw HubError("no file matches --include \(include.joined(separator: " "))") }
            return chosen
        }
        let paths = files.map(\.path)
        let safetensors = paths.contains { $0.hasSuffix(".safetensors") }
        let torch = paths.contains { $0.hasPrefix("pytorch_model") && $0.hasSuffix(".bin") }
        let ggufs = paths.filter { $0.hasSuffix(".gguf") }
        if !safetensors, !torch, !ggufs.isEmpty {
            throw HubError("this repository holds GGUF files; choose one with --include, e.g. --include '\(ggufs[0])'. Available: "
                           + ggufs.joined(separator: ", "))
        }
        return files.filter { file in
            let name = (file.path as NSString).lastPathComponent
            let weights = safetensors ? (file.path.hasSuffix(".safetensors") || file.path == "model.safetensors.index.json")
                : (name.hasPrefix("pytorch_model") && (name.hasSuffix(".bin") || name.hasSuffix(".bin.index.json")))
            // Only top-level weights: subfolders hold other formats (onnx/, original/).
            return ((weights && !file.path.contains("/")) || Self.companions.contains(file.path)) && !matches(file.path, exclude)
        }
    }
}
