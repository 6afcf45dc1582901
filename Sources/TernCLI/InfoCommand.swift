// `tern info`: what a model holds and how much memory serving it needs.
import ArgumentParser
import Foundation
import TernEngine
import TernFormats

struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "info", abstract: "Describe a model (folder or GGUF file).")

    @OptionGroup var model: ModelOption

    func run() throws {
        try reportingErrors {
            let url = try model.url
            let loaded = try LoadedModel(path: url)
            let c = loaded.model.config
            let bytesByType = loaded.model.weightTypes
            let weightBytes = bytesByType.values.reduce(0, +)
            let kvPerToken = loaded.model.kvBytesPerToken
            let context = c.maxPositionEmbeddings
            var lines = [
                "model:          \(url.path)",
                "architecture:   \(c.architecture) (model_type \(c.modelType))",
                "parameters:     \(formatCount(c.parameterCount))",
                "layers:         \(c.numHiddenLayers), hidden \(c.hiddenSize), intermediate \(c.intermediateSize)",
                "attention:      \(c.numAttentionHeads) heads, \(c.numKeyValueHeads) KV heads, head_dim \(c.headDim)",
                "vocabulary:     \(c.vocabSize) (tokenizer: \(loaded.tokenizer.vocabularySize))",
                "context:        \(context) tokens, rope theta \(c.ropeTheta), scaling \(c.ropeScaling.kind.rawValue)",
                "dtypes:         " + bytesByType.sorted { $0.key < $1.key }.map { "\($0.key) \(formatBytes($0.value))" }.joined(separator: ", "),
                "weights:        \(formatBytes(weightBytes)) from \(url.hasDirectoryPath ? "a checkpoint folder" : "a GGUF file")",
                "KV cache:       \(formatBytes(kvPerToken)) per token (f32)",
                "memory needed:  \(formatBytes(weightBytes + kvPerToken * min(context, 4096))) at \(min(context, 4096)) tokens, "
                    + "\(formatBytes(weightBytes + kvPerToken * context)) at the full context",
            ]
            if url.hasDirectoryPath, let packing = try PackedQuantization.load(directory: url) {
                lines.insert("quantization:   \(packing) (run as the block types below)", at: 8)
            }
            if let window = c.slidingWindow { lines.append("sliding window: \(window) tokens") }
            lines.append("family:         \(c.family.rawValue)")
            var positions = c.positionEncoding == .alibi ? "ALiBi" : "RoPE on \(c.rotaryDimensions) of \(c.headDim) dimensions"
            if let reason = c.positionEncodingReason { positions += " (\(reason))" }
            lines.append("positions:      \(positions)")
            if c.normalizedHead { lines.append("LM head:        rows L2-normalised at load (NormHead)") }
            if let rules = c.longContext {
                lines.append("long context:   trained on \(rules.trainedLength) tokens; dynamic NTK \(rules.dynamicNTK ? "on" : "off"), logn attention \(rules.lognAttention ? "on" : "off")")
            }
            if let format = loaded.builtInChatFormat { lines.append("chat format:    built-in \(format.rawValue) (no template in the model)") }
            print(lines.joined(separator: "\n"))
        }
    }
}

func formatCount(_ count: Int) -> String {
    count >= 1_000_000_000 ? String(format: "%.2fB", Double(count) / 1e9)
        : count >= 1_000_000 ? String(format: "%.2fM", Double(count) / 1e6) : String(format: "%.1fK", Double(count) / 1e3)
}
