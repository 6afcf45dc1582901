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
    public var family: ModelFamily
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
    public var positionEncoding: PositionEncoding
    /// Why `positionEncoding` was chosen, where the files leave it open (Baichuan), for `tern info`.
    public var positionEncodingReason: String?
    /// Leading dimensions of each head that rotary embedding turns (the rest pass through).
    public var rotaryDimensions: Int
    /// The checkpoint's q/k rows rotate adjacent pairs (ChatGLM's original rope); the loader
    /// re-orders them into halves so one rotary kernel serves every family.
    public var rotaryAdjacentPairs: Bool
    /// The LM head's rows are L2-normalised at load (Baichuan2's NormHead).
    public var normalizedHead: Bool
    public var longContext: LongContextRules?

    public static let supportedArchitectures = ["LlamaForCausalLM", "Qwen2ForCausalLM", "MistralForCausalLM", "ChatGLMModel",
                                                "BaichuanForCausalLM", "BaiChuanForCausalLM", "QWenLMHeadModel"]

    public static func load(directory: URL) throws -> ModelConfig {
        let url = directory.appendingPathComponent("config.json")
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw FormatError("no config.json in \(directory.path)")
        }
        // The modeling code shipped beside a remote-code config settles what the config leaves open.
        let modeling = try? String(contentsOf: directory.appendingPathComponent("modeling_baichuan.py"), encoding: .utf8)
        do { return try ModelConfig(json: try JSONParser.parse(contentsOf: url), modelingCode: modeling) } catch let error as FormatError {
            throw FormatError(error.message.hasPrefix(url.path) ? error.message : "\(url.path): \(error.message)")
        }
    }

    /// A configuration built field by field (GGUF metadata); nothing is validated here.
    init(architecture: String, vocabSize: Int, hiddenSize: Int, intermediateSize: Int, numHiddenLayers: Int,
         numAttentionHeads: Int, numKeyValueHeads: Int, headDim: Int) {
        self.architecture = architecture
        modelType = ""
        family = ModelFamily.of(architecture: architecture) ?? .llama
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
        positionEncoding = .rotary
        rotaryDimensions = headDim
        rotaryAdjacentPairs = false
        normalizedHead = false
    }

    /// A config.json; `modelingCode` is the modeling file shipped beside it, if any.
    public init(json: JSONValue, modelingCode: String? = nil) throws {
        guard json.objectValue != nil else { throw FormatError("config is not a JSON object") }
        let architectures = json["architectures"]?.arrayValue?.compactMap(\.stringValue) ?? []
        guard let architecture = architectures.first(where: Self.supportedArchitectures.contains) else {
            let named = architectures.isEmpty ? (json["model_type"]?.stringValue ?? "unknown") : architectures.joined(separator: ", ")
            throw FormatError("unsupported architecture \(named); supported: \(Self.supportedArchitectures.joined(separator: ", "))")
        }
        let family = ModelFamily.of(architecture: architecture)!
        if let type = json["model_type"]?.stringValue, !family.modelTypes.contains(type) {
            throw FormatError("architecture \(architecture) is \(family.rawValue) but model_type is '\(type)'; the config mixes families")
        }
        switch family {
        case .llama: try self.init(llama: json, architecture: architecture)
        case .chatglm: try self.init(chatGLM: json, architecture: architecture)
        case .baichuan: try self.init(baichuan: json, architecture: architecture, modelingCode: modelingCode)
        case .qwen: try self.init(qwen: json, architecture: architecture)
        }
        modelType = json["model_type"]?.stringValue ?? ""
        eosTokenIds = Self.tokenIds(json["eos_token_id"])
        bosTokenId = json["bos_token_id"]?.intValue
        torchDType = json["torch_dtype"]?.stringValue ?? json["dtype"]?.stringValue
        guard rotaryDimensions > 0, rotaryDimensions <= headDim, rotaryDimensions % 2 == 0 else {
            throw FormatError("rotary dimensions \(rotaryDimensions) must be even and within the head dimension \(headDim)")
        }
    }

    /// The positive integer under the first of `keys` the config has (newer names first), or an error naming it.
    static func positiveInt(_ json: JSONValue, _ keys: [String]) throws -> Int {
        guard let key = keys.first(where: { json[$0] != nil }) else { throw FormatError("missing '\(keys[0])'") }
        guard let value = json[key]?.intValue else { throw FormatError("non-integer '\(key)'") }
        guard value > 0 else { throw FormatError("'\(key)' must be positive, got \(value)") }
        return value
    }

    private init(llama json: JSONValue, architecture: String) throws {
        func int(_ key: String) throws -> Int { try Self.positiveInt(json, [key]) }
        let hidden = try int("hidden_size"), heads = try int("num_attention_heads")
        try self.init(architecture: architecture, vocabSize: int("vocab_size"), hiddenSize: hidden,
                      intermediateSize: int("intermediate_size"), numHiddenLayers: int("num_hidden_layers"),
                      numAttentionHeads: heads, numKeyValueHeads: json["num_key_value_heads"]?.intValue ?? heads,
                      headDim: json["head_dim"]?.intValue ?? hidden / heads)
        try checkHeads()
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
    }

    /// Query heads must share KV heads evenly, and rotary needs an even head dimension.
    func checkHeads() throws {
        guard numKeyValueHeads > 0, numAttentionHeads % numKeyValueHeads == 0 else {
            throw FormatError("num_attention_heads (\(numAttentionHeads)) must be a multiple of num_key_value_heads (\(numKeyValueHeads))")
        }
        guard headDim > 0, headDim % 2 == 0 else { throw FormatError("head_dim must be positive and even, got \(headDim)") }
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
