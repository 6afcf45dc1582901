// `tern quantize`: a model folder written as one GGUF file, weights quantized once, with its
// configuration, tokenizer, chat template and sampling defaults, so a later start maps it as is.
import Foundation
import TernFormats
import TernModels
import TernTemplates
import TernTokenizer

public enum ModelQuantizer {
    /// Writes `directory`'s model to `output` and returns the number of bytes written.
    @discardableResult
    public static func write(directory: URL, options: LoadOptions, output: String) throws -> Int {
        if let packing = try PackedQuantization.load(directory: directory) {
            throw EngineError("\(directory.path) is already quantized (\(packing)); serve the folder as it is")
        }
        let tensors = try GGUFModelTensors(directory: directory, options: options)
        let generation = try GenerationConfig.load(directory: directory)
        let tokenizer = try Tokenizer.ggufMetadata(directory: directory, rows: tensors.config.vocabSize)
        var metadata: [(String, GGUFEntry)] = tensors.config.ggufMetadata
        metadata += [("general.name", .string(directory.lastPathComponent)),
                     ("general.file_type", .uint32(options.quantization.fileTypeCode ?? floatFileType(tensors.plans))),
                     ("general.quantization_version", .uint32(2))]
        metadata += generation.ggufMetadata
        metadata += tokenizer
        metadata += endTokens(tokenizer: tokenizer, ids: generation.eosTokenIds + tensors.config.eosTokenIds)
        metadata += try ChatTemplate.ggufMetadata(directory: directory)
        try GGUFWriter.write(to: output, metadata: metadata, tensors: tensors.plans, bytes: tensors.bytes)
        let attributes = try FileManager.default.attributesOfItem(atPath: output)
        return (attributes[.size] as? Int) ?? 0
    }

    /// GGUF holds one EOS id; further end tokens (LLaMA 3's <|eot_id|>, ...) go in the EOT and EOM keys.
    private static func endTokens(tokenizer: [(String, GGUFEntry)], ids: [Int]) -> [(String, GGUFEntry)] {
        var entries: [(String, GGUFEntry)] = []
        var remaining = ids
        if !tokenizer.contains(where: { $0.0 == "tokenizer.ggml.eos_token_id" }), let first = remaining.first {
            entries.append(("tokenizer.ggml.eos_token_id", .uint32(UInt32(first))))
        }
        if case .uint32(let eos)? = (tokenizer + entries).first(where: { $0.0 == "tokenizer.ggml.eos_token_id" })?.1 {
            remaining.removeAll { $0 == Int(eos) }
        }
        var seen = Set<Int>()
        remaining = remaining.filter { seen.insert($0).inserted }
        for (key, id) in zip(["tokenizer.ggml.eot_token_id", "tokenizer.ggml.eom_token_id"], remaining) {
            entries.append((key, .uint32(UInt32(id))))
        }
        return entries
    }

    /// llama.cpp's file type code of an unquantized file: that of its largest matrix.
    private static func floatFileType(_ plans: [GGUFTensorPlan]) -> UInt32 {
        let largest = plans.filter { $0.shape.count == 2 }.max { $0.byteCount < $1.byteCount }?.dtype
        return largest == .bf16 ? 32 : largest == .f16 ? 1 : 0
    }
}
