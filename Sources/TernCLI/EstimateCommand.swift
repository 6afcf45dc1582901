// `tern estimate`: the memory a model needs to serve, from its config.json or GGUF header alone,
// and whether it fits this machine (or its container's limit); the guide's memory table, for RAM.
import ArgumentParser
import Foundation
import TernFormats
import TernModels

struct EstimateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "estimate", abstract: "Estimate the memory a model needs to serve, without loading it.")

    @Option(help: "A model folder (config.json is enough) or a GGUF file.") var model: String
    @Option(name: .customLong("max-model-len"), help: "Context per sequence (default: the model's, at most 4096).") var maxModelLength: Int?
    @Option(name: .customLong("max-num-seqs"), help: "Sequences at once (default 16).") var maxNumSeqs = 16
    @Option(name: .customLong("max-num-batched-tokens"), help: "Tokens per forward pass (default 2048).") var maxBatchedTokens = 2048
    @Option(help: "Quantization at load: \(Quantization.names).") var quantization: Quantization = .none
    @Option(name: .customLong("kv-cache-dtype"), help: "KV cache element type: \(KVCacheSetting.names) (default f16).") var kvCacheDType: KVCacheSetting = .standard
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        try reportingErrors {
            let plan = try MemoryPlan.of(path: URL(fileURLWithPath: model), quantization: quantization, kvCache: kvCacheDType, contextTokens: maxModelLength,
                                         sequences: maxNumSeqs, batchTokens: maxBatchedTokens)
            let limit = MemoryLimit.usable()
            let fits = plan.totalBytes <= limit.bytes
            if json {
                let object: JSONValue = ["weights_bytes": .int(plan.weightBytes), "kv_bytes_per_token": .int(plan.kvBytesPerToken),
                                         "kv_cache_dtype": .string(plan.kvCacheType.description),
                                         "kv_cache_bytes": .int(plan.kvBytes), "activation_bytes": .int(plan.activationBytes),
                                         "runtime_bytes": .int(MemoryPlan.runtimeBytes), "total_bytes": .int(plan.totalBytes),
                                         "usable_bytes": .int(limit.bytes), "fits": .bool(fits)]
                print(object.serialized)
                return
            }
            print("""
                weights:      \(formatBytes(plan.weightBytes))\(quantization == .none ? "" : " (\(quantization.rawValue))")
                KV cache:     \(formatBytes(plan.kvBytesPerToken)) per token (\(plan.kvCacheType)); \(formatBytes(plan.kvBytes)) for \(maxNumSeqs) sequences
                activations:  \(formatBytes(plan.activationBytes)) (\(maxBatchedTokens) tokens per step)
                runtime:      \(formatBytes(MemoryPlan.runtimeBytes))
                total:        \(formatBytes(plan.totalBytes))
                usable here:  \(formatBytes(limit.bytes)) (\(limit.source)): \(fits ? "fits" : "does NOT fit")
                """)
        }
    }
}
