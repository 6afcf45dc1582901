// Where a model's tensors come from, always asked for by their Hugging Face names: a safetensors
// checkpoint as it is, or a GGUF file through llama.cpp's names and row order.
import Foundation
import TernFormats
import TernOps

public protocol WeightSource {
    func tensor(_ name: String) throws -> TensorView
    func contains(_ name: String) -> Bool
}

/// A checkpoint folder (safetensors or PyTorch files) under the names the models ask for. Early Yi checkpoints name the
/// layer norms `ln1` and `ln2` instead of `input_layernorm` and `post_attention_layernorm`.
public struct CheckpointWeights: WeightSource {
    public let checkpoint: CheckpointFolder
    static let aliases = [(".input_layernorm.", ".ln1."), (".post_attention_layernorm.", ".ln2.")]

    public init(_ checkpoint: CheckpointFolder) { self.checkpoint = checkpoint }

    public init(directory: URL) throws { checkpoint = try CheckpointFolder(directory: directory) }

    /// The stored name of the tensor asked for as `name`.
    private func stored(_ name: String) -> String? {
        if checkpoint.tensors[name] != nil { return name }
        for (canonical, alias) in Self.aliases where name.contains(canonical) {
            let other = name.replacingOccurrences(of: canonical, with: alias)
            if checkpoint.tensors[other] != nil { return other }
        }
        return nil
    }

    public func contains(_ name: String) -> Bool { stored(name) != nil }

    public func tensor(_ name: String) throws -> TensorView { try checkpoint.tensor(stored(name) ?? name) }
}

/// The tensors of a GGUF model under their Hugging Face names. LLaMA files hold q and k rows in
/// llama.cpp's rotary order, so those come back re-ordered (a copy); everything else is mapped.
public struct GGUFWeights: WeightSource {
    public let file: GGUFFile
    let config: ModelConfig

    public init(file: GGUFFile, config: ModelConfig) {
        self.file = file
        self.config = config
    }

    public func contains(_ name: String) -> Bool {
        GGUFTensorNames.gguf(name).map { file.tensors[$0] != nil || file.unsupportedTensors[$0] != nil } ?? false
    }

    public func tensor(_ name: String) throws -> TensorView {
        guard let ggufName = GGUFTensorNames.gguf(name) else { throw FormatError("\(file.path): no GGUF name for tensor '\(name)'") }
        let view = try file.tensor(ggufName)
        guard let heads = GGUFTensorNames.rotaryHeads(of: name, config: config) else { return view }
        let buffer = OwnedBuffer(bytes: view.byteCount)
        GGUFTensorNames.reorderRotaryRows(view.data, into: buffer.pointer, rows: view.shape[0], byteCount: view.byteCount, heads: heads, toGGUF: false)
        return TensorView(name: view.name, dtype: view.dtype, shape: view.shape, data: buffer.pointer, byteCount: view.byteCount, owner: buffer)
    }
}

/// A GGUF file's tensors under their own names, for FamilyWeights to map.
struct GGUFStoredTensors: WeightSource {
    let file: GGUFFile

    func contains(_ name: String) -> Bool { file.tensors[name] != nil || file.unsupportedTensors[name] != nil }

    func tensor(_ name: String) throws -> TensorView { try file.tensor(name) }
}
