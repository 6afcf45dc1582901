// `tern quantize`: write a model folder as a quantized GGUF file that later starts map directly.
import ArgumentParser
import Foundation
import TernFormats
import TernEngine
import TernModels

struct QuantizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quantize", abstract: "Write a model folder as a GGUF file (quantized once; llama.cpp reads it too).")

    @OptionGroup var model: ModelOption
    @Option(name: .customLong("type"), help: "q8_0, q4_0, q4_k (one type for every linear layer), llama-quantize's mixes q2_k, q3_k_m, q4_k_m, q5_k_m, q6_k, or none to keep the checkpoint's floats.")
    var type: Quantization
    @Option(help: "The GGUF file to write.") var output: String
    @Option(help: "Compute threads (default: all physical cores).") var threads: Int?

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
    }

    func run() throws {
        try reportingErrors {
            let start = Date()
            let bytes = try ModelQuantizer.write(directory: try model.url, options: LoadOptions(quantization: type, threads: threads), output: output)
            print(String(format: "wrote %@ (%@, %@) in %.1f s", output, type.rawValue, formatBytes(bytes), Date().timeIntervalSince(start)))
        }
    }
}
