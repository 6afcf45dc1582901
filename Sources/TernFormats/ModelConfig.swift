// config.json of a Hugging Face decoder model, with Hugging Face's key names kept.
import Foundation

public struct RopeScaling: Equatable, Sendable {
    /// `frequencyFactors` is GGUF's form: a divisor per frequency, stored as the rope_freqs tensor.
    public enum Kind: String, Sendable { case none = "default", linear, llama3, frequencyFactors = "frequency factors" }
    public var kind: Kind = .none
    /// One divisor per pair of a head's dimensions, for `.frequencyFactors`.
    public var factors: [Float] = []
    public var factor: Double = 1
    public var lowFreqFactor: Double = 1
    public var highFreqFactor: Double = 4
    public var originalMaxPositionEmbeddings: Int = 8192

    public init() {}
}

public struct ModelConfig: Sendable {
    public var architecture: String
    public var modelType: String
    public var vocabSize: Int
    public var hiddenSize: Int
    public var intermediateSize: Int
    public var numHiddenLayers: Int
    public var numAttentionHeads: Int
    public var numKeyValueHeads: Int
    public var headDim: Int
    public var rmsNormEps: Double
    public var ropeTheta: Double
    public var ropeScaling: RopeScaling
    public var tieWordEmbeddings: Bool
    /// Bias on q/k/v projections (Qwen2 always; LLaMA when `attention_bias` is set, then also on o).
    public var qkvBias: Bool
    public var outputBias: Bool
    public var mlpBias: Bool
    public var maxPositionEmbeddings: Int
    /// Sliding-window attention span, or nil when the model attends to the whole context.
    public var slidingWindow: Int?
    public var bosTokenId: Int?
    public var eosTokenIds: [Int]
    public var torchDType: String?

    public static let supportedArchitectures = ["LlamaForCausalLM", "Qwen2ForCausalLM", "MistralForCausalLM"]

    public static func load(directory: URL) throws -> ModelConfig {
        let url = directory.appendingPathComponent("config.json")
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw FormatError("no config.json in \(directory.path)")
        }
        do { return try ModelConfig(json: try JSONParser.parse(contentsOf: url)) } catch let error as FormatError {
            throw FormatError(error.message.hasPrefix(url.path) ? error.message : "\(url.path): \(error.message)")
        }
    }

    /// A configuration built field by field (GGUF metadata); nothing is validated here.
    init(architecture: String, vocabSize: Int, hiddenSize: Int, intermediateSize: Int, numHiddenLayers: Int,
         numAttentionHeads: Int, numKeyValueHeads: Int, headDim: Int) {
        self.architecture = architecture
        modelType = ""
        self.vocabSize = vocabSize
        self.hiddenSize = hiddenSize
        self.intermediateSize = intermediateSize
        self.numHiddenLayers = numHiddenLayers
        self.numAttentionHeads = numAttentionHeads
        self.numKeyValueHeads = numKeyValueHeads
        self.headDim = headDim
        rmsNormEps = 1e-6
        ropeTheta = 10000
        ropeScaling = RopeScaling()
        tieWordEmbeddings = false
        qkvBias = false
        outputBias = false
        mlpBias = false
        maxPositionEmbeddings = 4096
        eosTokenIds = []
    }

    public init(json: JSONValue) throws {
        guard json.objectValue != nil else { throw FormatError("config is not a JSON object") }
        func int(_ key: String) throws -> Int {
            guard let value = json[key]?.intValue else { throw FormatError("missing or non-integer '\(key)'") }
            guard value > 0 else { throw FormatError("'\(key)' must be positive, got \(value)") }
            return value
        }
        let architectures = json["architectures"]?.arrayValue?.compactMap(\.stringValue) ?? []
        guard let architecture = architectures.first(where: Self.supportedArchitectures.contains) else {
            let named = architectures.isEmpty ? (json["model_type"]?.stringValue ?? "unknown") : architectures.joined(separator: ", ")
            throw FormatError("unsupported architecture \(named); supported: \(Self.supportedArchitectures.joined(separator: ", "))")
        }
        self.architecture = architecture
        modelType = json["model_type"]?.stringValue ?? ""
        vocabSize = try int("vocab_size")
        hiddenSize = try int("hidden_size")
        intermediateSize = try int("intermediate_size")
        numHiddenLayers = try int("num_hidden_layers")
        numAttentionHeads = try int("num_attention_heads")
        numKeyValueHeads = json["num_key_value_heads"]?.intValue ?? numAttentionHeads
        guard numKeyValueHeads > 0, numAttentionHeads % numKeyValueHeads == 0 else {
            throw FormatError("num_attention_heads (\(numAttentionHeads)) must be a multiple of num_key_value_heads (\(numKeyValueHeads))")
        }
        headDim = json["head_dim"]?.intValue ?? hiddenSize / numAttentionHeads
        guard headDim > 0, headDim % 2 == 0 else { throw FormatError("head_dim must be positive and even, got \(headDim)") }
        rmsNormEps = json["rms_norm_eps"]?.doubleValue ?? 1e-6
        // transformers 5 moved rope_theta and rope_scaling into one rope_parameters object.
        let rope = json["rope_parameters"] ?? json["rope_scaling"]
        ropeTheta = json["rope_theta"]?.doubleValue ?? rope?["rope_theta"]?.doubleValue ?? 10000
        ropeScaling = try Self.ropeScaling(rope)
        tieWordEmbeddings = json["tie_word_embeddings"]?.boolValue ?? false
        let attentionBias = json["attention_bias"]?.boolValue ?? false
        qkvBias = architecture == "Qwen2ForCausalLM" || attentionBias
        outputBias = architecture != "Qwen2ForCausalLM" && attentionBias
        mlpBias = json["mlp_bias"]?.boolValue ?? false
        maxPositionEmbeddings = json["max_position_embeddings"]?.intValue ?? 4096
        let window = json["sliding_window"]?.intValue
        let windowUsed = architecture == "Qwen2ForCausalLM" ? (json["use_sliding_window"]?.boolValue ?? false) : true
        // A window at least as long as the context changes nothing, so it is dropped.
        slidingWindow = (windowUsed && window != nil && window! < maxPositionEmbeddings) ? window : nil
        bosTokenId = json["bos_token_id"]?.intValue
        eosTokenIds = Self.tokenIds(json["eos_token_id"])
        torchDType = json["torch_dtype"]?.stringValue ?? json["dtype"]?.stringValue
    }

    static func tokenIds(_ value: JSONValue?) -> [Int] {
        if let single = value?.intValue { return [single] }
        return value?.arrayValue?.compactMap(\.intValue) ?? []
    }

    private static func ropeScaling(_ json: JSONValue?) throws -> RopeScaling {
        var scaling = RopeScaling()
        guard let json, json.objectValue != nil else { return scaling }
        let typeName = json["rope_type"]?.stringValue ?? json["type"]?.stringValue ?? "default"
        guard let kind = RopeScaling.Kind(rawValue: typeName), kind != .frequencyFactors else {
            throw FormatError("unsupported rope scaling type '\(typeName)' (supported: default, linear, llama3)")
        }
        scaling.kind = kind
        scaling.factor = json["factor"]?.doubleValue ?? 1
        scaling.lowFreqFactor = json["low_freq_factor"]?.doubleValue ?? 1
        scaling.highFreqFactor = json["high_freq_factor"]?.doubleValue ?? 4
        scaling.originalMaxPositionEmbeddings = json["original_max_position_embeddings"]?.intValue ?? 8192
        return scaling
    }

    /// Parameters implied by the shapes, counting the LM head once when it is tied.
    public var parameterCount: Int {
        let q = numAttentionHeads * headDim, kv = numKeyValueHeads * headDim
        var attention = hiddenSize * q + 2 * hiddenSize * kv + q * hiddenSize
        if qkvBias { attention += q + 2 * kv }
        if outputBias { attention += hiddenSize }
        let mlp = 3 * hiddenSize * intermediateSize
        let layer = attention + mlp + 2 * hiddenSize
        let embeddings = vocabSize * hiddenSize * (tieWordEmbeddings ? 1 : 2)
        return numHiddenLayers * layer + embeddings + hiddenSize
    }
}

/// generation_config.json: end-of-sequence ids and the model's sampling defaults.
public struct GenerationConfig: Sendable {
    public var eosTokenIds: [Int] = []
    public var bosTokenId: Int?
    public var temperature: Double?
    public var topP: Double?
    public var topK: Int?
    public var repetitionPenalty: Double?

    public init() {}

    public static func load(directory: URL) throws -> GenerationConfig {
        let url = directory.appendingPathComponent("generation_config.json")
        var config = GenerationConfig()
        guard FileManager.default.fileExists(atPath: url.path) else { return config }
        let json = try JSONParser.parse(contentsOf: url)
        config.eosTokenIds = ModelConfig.tokenIds(json["eos_token_id"])
        config.bosTokenId = json["bos_token_id"]?.intValue
        // Defaults apply only when the model samples by default; greedy configs keep ours.
        if json["do_sample"]?.boolValue == true {
            config.temperature = json["temperature"]?.doubleValue
            config.topP = json["top_p"]?.doubleValue
            config.topK = json["top_k"]?.intValue
        }
        config.repetitionPenalty = json["repetition_penalty"]?.doubleValue
        return config
    }
}
