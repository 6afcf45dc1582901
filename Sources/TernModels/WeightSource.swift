// Where a model's tensors come from, always asked for by their Hugging Face names: a safetensors
// checkpoint as it is, or a GGUF file through llama.cpp's names and row order.
import TernFormats
import TernOps

public protocol WeightSource {
    func tensor(_ name: String) throws -> TensorView
    func contains(_ name: String) -> Bool
}

extension SafetensorsCheckpoint: WeightSource {
    public func contains(_ name: String) -> Bool { tensors[name] != nil }
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
