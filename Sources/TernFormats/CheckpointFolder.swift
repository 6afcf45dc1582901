// All tensors of a checkpoint folder, as Hugging Face repositories ship them: safetensors
// (model.safetensors, or shards listed in model.safetensors.index.json), else PyTorch files
// (pytorch_model.bin, or shards listed in pytorch_model.bin.index.json).
import Foundation

public struct CheckpointFolder: Sendable {
    public let tensors: [String: TensorView]
    /// The files the tensors were read from.
    public let shards: [String]

    private enum Format: CaseIterable {
        case safetensors, pytorch

        var single: String { self == .safetensors ? "model.safetensors" : "pytorch_model.bin" }
        var suffix: String { self == .safetensors ? ".safetensors" : ".bin" }

        func tensors(path: String) throws -> [String: TensorView] {
            self == .safetensors ? try SafetensorsFile(path: path).tensors : try TorchCheckpointFile(path: path).tensors
        }
    }

    public init(directory: URL) throws {
        let fm = FileManager.default
        let all = (try? fm.contentsOfDirectory(atPath: directory.path)) ?? []
        // Safetensors win where a repository ships both.
        guard let format = Format.allCases.first(where: { format in all.contains { $0.hasSuffix(format.suffix) } }) else {
            throw FormatError("no .safetensors or pytorch_model*.bin files in \(directory.path)")
        }
        var tensors: [String: TensorView] = [:]
        shards = try Self.shards(of: format, directory: directory, listing: all)
        for shard in shards {
            let path = directory.appendingPathComponent(shard).path
            guard fm.fileExists(atPath: path) else { throw FormatError("missing shard \(shard) in \(directory.path)") }
            for (name, view) in try format.tensors(path: path) {
                guard tensors[name] == nil else { throw FormatError("tensor '\(name)' appears in two shards") }
                tensors[name] = view
            }
        }
        self.tensors = tensors
    }

    private static func shards(of format: Format, directory: URL, listing: [String]) throws -> [String] {
        let index = directory.appendingPathComponent(format.single + ".index.json")
        if FileManager.default.fileExists(atPath: index.path) {
            let json = try JSONParser.parse(contentsOf: index)
            guard let map = json["weight_map"]?.objectValue else { throw FormatError("\(index.path): no weight_map") }
            var names: [String] = []
            for (_, shard) in map.pairs {
                guard let name = shard.stringValue else { throw FormatError("\(index.path): weight_map values must be file names") }
                if !names.contains(name) { names.append(name) }
            }
            return names
        }
        if listing.contains(format.single) { return [format.single] }
        let shards = listing.filter { $0.hasSuffix(format.suffix) && (format == .safetensors || $0.hasPrefix("pytorch_model")) }.sorted()
        guard !shards.isEmpty else { throw FormatError("no .safetensors or pytorch_model*.bin files in \(directory.path)") }
        return shards
    }

    public func tensor(_ name: String) throws -> TensorView {
        guard let view = tensors[name] else { throw FormatError("tensor '\(name)' is missing from the checkpoint") }
        return view
    }
}
