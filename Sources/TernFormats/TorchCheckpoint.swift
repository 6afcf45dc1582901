// A PyTorch checkpoint (`pytorch_model.bin`, what torch.save writes): a zip archive holding a
// pickled state dict and one uncompressed file per storage. The pickle is read by the restricted
// unpickler; tensors point into the memory-mapped archive, no copy.
import Foundation

public struct TorchCheckpointFile: Sendable {
    public let file: MappedFile
    public let tensors: [String: TensorView]

    static let elementTypes: [String: TensorDType] = [
        "torch.FloatStorage": .f32, "torch.HalfStorage": .f16, "torch.BFloat16Storage": .bf16, "torch.IntStorage": .i32,
    ]

    public init(path: String) throws {
        file = try MappedFile(path: path)
        let archive = try ZipArchive(file: file)
        guard let pickle = archive.entries.values.first(where: { $0.name.hasSuffix("data.pkl") && $0.name.split(separator: "/").count == 2 }) else {
            throw FormatError("\(path) is a zip archive without the data.pkl torch.save writes")
        }
        let prefix = String(pickle.name.dropLast("data.pkl".count))
        var unpickler = RestrictedUnpickler(bytes: try archive.storedBytes(pickle), source: path)
        guard case .dict(let items) = try unpickler.load() else { throw FormatError("\(path): the pickle is not a state dict") }
        var tensors: [String: TensorView] = [:]
        for (key, value) in items {
            guard case .string(let name) = key, case .tensor(let tensor) = value else { continue }
            guard let dtype = Self.elementTypes[tensor.storageType] else {
                // Integer buffers (position ids and the like) are not weights; a model asking for one gets the missing-tensor error.
                continue
            }
            tensors[name] = try Self.view(name, tensor, dtype: dtype, archive: archive, prefix: prefix)
        }
        self.tensors = tensors
    }

    private static func view(_ name: String, _ tensor: PickledTensor, dtype: TensorDType, archive: ZipArchive, prefix: String) throws -> TensorView {
        let path = archive.file.path
        guard let entry = archive.entries[prefix + "data/" + tensor.storageKey] else {
            throw FormatError("\(path): tensor '\(name)' refers to storage \(tensor.storageKey), which the archive lacks")
        }
        var expected = 1
        for (size, stride) in zip(tensor.shape, tensor.strides).reversed() {
            guard size == 1 || stride == expected else { throw FormatError("\(path): tensor '\(name)' is not contiguous (strides \(tensor.strides))") }
            expected *= size
        }
        let elements = tensor.shape.reduce(1, *), size = dtype.blockBytes
        let bytes = try archive.storedBytes(entry)
        guard tensor.offset >= 0, (tensor.offset + elements) * size <= bytes.count else {
            throw FormatError("\(path): tensor '\(name)' runs past the end of its storage")
        }
        return TensorView(name: name, dtype: dtype, shape: tensor.shape, data: bytes.baseAddress! + tensor.offset * size,
                          byteCount: elements * size, owner: archive.file)
    }
}
