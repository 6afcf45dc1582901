// What the engine needs from any architecture, and the registry from config to model file.
import Foundation
import TernFormats
import TernOps

public protocol LanguageModel: AnyObject, Sendable {
    var config: ModelConfig { get }
    /// Bytes of weight data read by one forward pass (all layers and the LM head).
    var weightBytes: Int { get }
    /// Weight types in use and the bytes of each (a quantized model may mix types).
    var weightTypes: [String: Int] { get }
    /// The threads and scratch its kernels run on; whoever runs the forward pass may use them
    /// between passes (sampling does), never during one.
    var compute: Compute { get }
    /// The element type of the KV caches made for it.
    var kvCacheType: KVCacheType { get }
    /// Runs the batch, writing each token's keys and values into `cache`, and returns the
    /// logit rows each sequence asked for.
    func forward(_ batch: ForwardBatch, cache: PagedKVCache) -> BatchLogits
}

extension LanguageModel {
    /// A cache of the model's KV type, or of `type` where given.
    public func makeKVCache(blockSize: Int, blockCount: Int, type: KVCacheType? = nil) -> PagedKVCache {
        PagedKVCache(layers: config.numHiddenLayers, blockSize: blockSize, blockCount: blockCount,
                     kvHeads: config.numKeyValueHeads, headDim: config.headDim, type: type ?? kvCacheType)
    }

    public var kvBytesPerToken: Int {
        PagedKVCache.bytesPerBlock(layers: config.numHiddenLayers, blockSize: 1,
                                   kvHeads: config.numKeyValueHeads, headDim: config.headDim, type: kvCacheType)
    }
}

public enum ModelRegistry {
    /// A model from a folder (config.json + safetensors) or a GGUF file.
    public static func load(path: URL, options: LoadOptions = LoadOptions()) throws -> LanguageModel {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path.path, isDirectory: &isDirectory) else {
            throw FormatError("model path \(path.path) does not exist")
        }
        return isDirectory.boolValue ? try load(directory: path, options: options) : try load(gguf: try GGUFFile(path: path.path), options: options)
    }

    /// A model from a folder. GPTQ and AWQ layers are already quantized: for those checkpoints only
    /// q8_0 applies, to the float matrices they keep (embedding and LM head).
    public static func load(directory: URL, options: LoadOptions = LoadOptions()) throws -> LanguageModel {
        let config = try ModelConfig.load(directory: directory)
        let packing = try PackedQuantization.load(directory: directory)
        if let packing, options.quantization != .none, options.quantization != .q8_0 {
            throw FormatError("\(directory.path) is already quantized (\(packing)); only --quantization q8_0 applies, to its float embedding and LM head")
        }
        return try load(config: config, weights: try FamilyWeights.folder(directory, config: config), options: options, packing: packing)
    }

    /// A model from a GGUF file; quantized tensors are used as stored, float ones quantized as `options` ask.
    public static func load(gguf file: GGUFFile, options: LoadOptions = LoadOptions()) throws -> LanguageModel {
        let config = try ModelConfig(gguf: file)
        // ChatGLM and Qwen files keep projections fused; the rest are split the LLaMA way.
        let weights: WeightSource = [.chatglm, .qwen].contains(config.family)
            ? FamilyWeights(stored: GGUFStoredTensors(file: file), config: config, naming: .gguf) : GGUFWeights(file: file, config: config)
        return try load(config: config, weights: weights, options: options)
    }

    /// Every family runs on the one decoder; the config names its variations.
    static func load(config: ModelConfig, weights: WeightSource, options: LoadOptions, packing: PackedQuantization? = nil) throws -> LanguageModel {
        try DecoderModel(config: config, loader: WeightLoader(checkpoint: weights, config: config, options: options,
                                                                compute: Compute(threads: options.threads), packing: packing),
                         kvCacheType: options.kvCache.resolved(for: config))
    }
}
