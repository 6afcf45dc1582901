// The safetensors format: an 8-byte header length, a JSON header, then raw tensor bytes.
// Every offset is checked against the file before a view is handed out.
import Foundation

public struct SafetensorsFile: Sendable {
    public let file: MappedFile
    public let tensors: [String: TensorView]
    public let metadata: [String: String]

    public init(path: String) throws {
        let file = try MappedFile(path: path)
        self.file = file
        let name = (path as NSString).lastPathComponent
        guard file.size >= 8 else { throw FormatError("\(name): too short to be a safetensors file") }
        let headerLength = Int(clamping: file.base.loadUnaligned(as: UInt64.self).littleEndian)
        guard headerLength > 0, headerLength <= file.size - 8 else {
            throw FormatError("\(name): header length \(headerLength) does not fit in the file (\(file.size) bytes); truncated or not safetensors")
        }
        let headerBytes = Array(file.bytes(at: 8, count: headerLength))
        let header: JSONValue
        do { header = try JSONParser.parse(headerBytes) } catch let error as FormatError {
            throw FormatError("\(name): bad header: \(error.message)")
        }
        guard let entries = header.objectValue else { throw FormatError("\(name): header is not a JSON object") }
        let dataStart = 8 + headerLength
        let dataSize = file.size - dataStart
        var tensors: [String: TensorView] = [:]
        var metadata: [String: String] = [:]
        var ranges: [(Int, Int, String)] = []
        for (key, entry) in entries.pairs {
            if key == "__metadata__" {
                for (mk, mv) in entry.objectValue?.pairs ?? [] { metadata[mk] = mv.stringValue ?? "" }
                continue
            }
            let view = try Self.view(key, entry, file: file, dataStart: dataStart, dataSize: dataSize, fileName: name)
            tensors[key] = view
            ranges.append((view.data - file.base - dataStart, view.byteCount, key))
        }
        ranges.sort { $0.0 < $1.0 }
        for (previous, next) in zip(ranges, ranges.dropFirst()) where previous.0 + previous.1 > next.0 {
            throw FormatError("\(name): tensors '\(previous.2)' and '\(next.2)' overlap")
        }
        self.tensors = tensors
        self.metadata = metadata
    }

    private static func view(_ key: String, _ entry: JSONValue, file: MappedFile, dataStart: Int, dataSize: Int, fileName: String) throws -> TensorView {
        guard let dtypeName = entry["dtype"]?.stringValue else { throw FormatError("\(fileName): tensor '\(key)' has no dtype") }
        guard let dtype = TensorDType(rawValue: dtypeName), TensorDType.floatTypes.contains(dtype) || dtype == .i32 else {
            throw FormatError("\(fileName): tensor '\(key)' has unsupported dtype \(dtypeName) (supported: F32, F16, BF16, I32)")
        }
        guard let shapeValues = entry["shape"]?.arrayValue else { throw FormatError("\(fileName): tensor '\(key)' has no shape") }
        let shape = shapeValues.compactMap(\.intValue)
        guard shape.count == shapeValues.count, shape.allSatisfy({ $0 >= 0 }) else {
            throw FormatError("\(fileName): tensor '\(key)' has a bad shape")
        }
        guard let offsets = entry["data_offsets"]?.arrayValue?.compactMap(\.intValue), offsets.count == 2 else {
            throw FormatError("\(fileName): tensor '\(key)' has no data_offsets")
        }
        let (begin, end) = (offsets[0], offsets[1])
        guard begin >= 0, begin <= end, end <= dataSize else {
            throw FormatError("\(fileName): tensor '\(key)' bytes \(begin)..<\(end) lie outside the file's \(dataSize) data bytes; the file is truncated or corrupt")
        }
        guard let needed = TensorView.byteCount(dtype: dtype, shape: shape) else {
            throw FormatError("\(fileName): tensor '\(key)' has an implausible shape \(shape)")
        }
        guard needed == end - begin else {
            throw FormatError("\(fileName): tensor '\(key)' has \(end - begin) bytes, but shape \(shape) of \(dtypeName) needs \(needed)")
        }
        return TensorView(name: key, dtype: dtype, shape: shape, data: file.base + dataStart + begin, byteCount: end - begin, owner: file)
    }
}
