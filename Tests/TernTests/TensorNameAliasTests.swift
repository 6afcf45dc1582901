// Checkpoints whose tensors carry other names for the same thing load as the usual names.
import Foundation
import Testing
import TernEngine
import TernFormats
import TernModels

@Suite struct TensorNameAliasTests {
    /// The folder with its safetensors header's names changed (data untouched; the header padded
    /// to a multiple of 8 as the format's writer does).
    static func renamed(_ name: String, _ replacements: [(String, String)]) throws -> URL {
        let folder = try Fixtures.temporaryDirectory().appendingPathComponent(name)
        try FileManager.default.copyItem(at: Fixtures.model(name), to: folder)
        let file = folder.appendingPathComponent("model.safetensors")
        let bytes = try Data(contentsOf: file)
        let length = Int(bytes.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
        var header = String(decoding: bytes[8..<8 + length], as: UTF8.self)
        for (from, to) in replacements { header = header.replacingOccurrences(of: from, with: to) }
        header += String(repeating: " ", count: (8 - header.utf8.count % 8) % 8)
        var out = withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { Data($0) }
        out += Data(header.utf8) + bytes[(8 + length)...]
        try out.write(to: file)
        return folder
    }

    /// Early Yi checkpoints name the layer norms ln1/ln2: the same model loads, quantizes and
    /// computes the same logits.
    @Test func yiNormNamesLoadAsTheLlamaOnes() throws {
        let folder = try Self.renamed("llama3-bpe", [(".input_layernorm.", ".ln1."), (".post_attention_layernorm.", ".ln2.")])
        #expect(try CheckpointFolder(directory: folder).tensors["model.layers.0.ln1.weight"] != nil)
        let original = try LoadedModel(path: Fixtures.model("llama3-bpe")), renamed = try LoadedModel(path: folder)
        let ids = try Fixtures.reference("llama3-bpe")["prompts"]!.arrayValue![0]["ids"]!.ints
        #expect(QuantizedModelTests.logits(renamed.model, ids) == QuantizedModelTests.logits(original.model, ids))
        let gguf = folder.appendingPathComponent("model.gguf").path
        try ModelQuantizer.write(directory: folder, options: LoadOptions(quantization: .q8_0), output: gguf)
        #expect(try GGUFFile(path: gguf).tensors["blk.0.attn_norm.weight"] != nil)
    }
}
