// A model configuration to and from GGUF metadata, with llama.cpp's key names ("{arch}.block_count", ...).

extension ModelConfig {
    /// GGUF's architecture name: Qwen2 and the remote-code families have their own; LLaMA and Mistral are both "llama".
    public var ggufArchitecture: String {
        switch family {
        case .llama: return architecture == "Qwen2ForCausalLM" ? "qwen2" : "llama"
        case .chatglm, .baichuan, .qwen: return family.rawValue
        }
    }

    static let architectureNames = ["llama": "LlamaForCausalLM", "qwen2": "Qwen2ForCausalLM", "chatglm": "ChatGLMModel",
                                    "baichuan": "BaichuanForCausalLM", "qwen": "QWenLMHeadModel"]

    /// The configuration of a GGUF model. Biases and tied embeddings are read off which tensors
    /// the file holds, the vocabulary size off the embedding's shape.
    public init(gguf file: GGUFFile) throws {
        let meta = file.metadata
        guard let arch = meta["general.architecture"]?.stringValue else { throw FormatError("\(file.path): no general.architecture") }
        guard let architecture = Self.architectureNames[arch] else {
            throw FormatError("\(file.path): unsupported architecture '\(arch)' (supported: \(Self.architectureNames.keys.sorted().joined(separator: ", ")))")
        }
        func int(_ key: String) throws -> Int {
            guard let value = meta["\(arch).\(key)"]?.intValue, value > 0 else { throw FormatError("\(file.path): missing or bad \(arch).\(key)") }
            return value
        }
        let embedding = try file.tensor("token_embd.weight")
        guard embedding.shape.count == 2 else { throw FormatError("\(file.path): token_embd.weight is not a matrix") }
        let hidden = try int("embedding_length"), heads = try int("attention.head_count")
        let kvHeads = meta["\(arch).attention.head_count_kv"]?.intValue ?? heads
        guard kvHeads > 0, heads % kvHeads == 0 else { throw FormatError("\(file.path): head_count \(heads) is not a multiple of head_count_kv \(kvHeads)") }
        let headDim = meta["\(arch).attention.key_length"]?.intValue ?? hidden / heads
        guard headDim > 0, headDim % 2 == 0 else { throw FormatError("\(file.path): head dimension \(headDim) must be positive and even") }
        self.init(architecture: architecture, vocabSize: embedding.shape[0], hiddenSize: hidden,
                  intermediateSize: try int("feed_forward_length"), numHiddenLayers: try int("block_count"),
                  numAttentionHeads: heads, numKeyValueHeads: kvHeads, headDim: headDim)
        modelType = arch
        // llama.cpp's Qwen converter writes the RMS epsilon under the LayerNorm key.
        rmsNormEps = meta["\(arch).attention.layer_norm_rms_epsilon"]?.doubleValue ?? meta["\(arch).attention.layer_norm_epsilon"]?.doubleValue ?? 1e-6
        ropeTheta = meta["\(arch).rope.freq_base"]?.doubleValue ?? 10000
        maxPositionEmbeddings = meta["\(arch).context_length"]?.intValue ?? 4096
        slidingWindow = meta["\(arch).attention.sliding_window"]?.intValue.flatMap { $0 < maxPositionEmbeddings ? $0 : nil }
        ropeScaling = try Self.ropeScaling(file, arch: arch, headDim: headDim)
        tieWordEmbeddings = file.tensors["output.weight"] == nil && file.unsupportedTensors["output.weight"] == nil
        qkvBias = file.tensors["blk.0.attn_q.bias"] != nil || file.tensors["blk.0.attn_qkv.bias"] != nil
        outputBias = file.tensors["blk.0.attn_output.bias"] != nil
        mlpBias = file.tensors["blk.0.ffn_up.bias"] != nil
        bosTokenId = meta["tokenizer.ggml.bos_token_id"]?.intValue
        eosTokenIds = Self.ggufEndTokenKeys.compactMap { meta[$0]?.intValue }
        try readFamilyVariations(meta, arch: arch, path: file.path)
    }

    /// What llama.cpp's files of the remote-code families say (or imply) about their variations.
    /// Qwen's NTK and logn rules are not in GGUF files (llama.cpp has neither), so they run without them.
    private mutating func readFamilyVariations(_ meta: GGUFMetadata, arch: String, path: String) throws {
        switch family {
        case .llama:
            break
        case .qwen:
            // llama.cpp's qwen files give the configured width, twice the real one.
            intermediateSize /= 2
        case .chatglm:
            rotaryDimensions = meta["chatglm.rope.dimension_count"]?.intValue ?? headDim / 2
            rotaryAdjacentPairs = true
        case .baichuan:
            normalizedHead = vocabSize == 125_696
            if let bias = meta["baichuan.attention.max_alibi_bias"]?.doubleValue, bias > 0 {
                positionEncoding = .alibi
                positionEncodingReason = "the file sets baichuan.attention.max_alibi_bias"
            } else {
                positionEncoding = numHiddenLayers == 40 ? .alibi : .rotary
                positionEncodingReason = "llama.cpp's rule: 40 layers is the 13B (ALiBi), others the 7B (RoPE)"
            }
        }
        guard rotaryDimensions > 0, rotaryDimensions <= headDim, rotaryDimensions % 2 == 0 else {
            throw FormatError("\(path): rope.dimension_count \(rotaryDimensions) must be even and within the head dimension \(headDim)")
        }
    }

    /// The keys whose token ends a sequence.
    static let ggufEndTokenKeys = ["tokenizer.ggml.eos_token_id", "tokenizer.ggml.eot_token_id", "tokenizer.ggml.eom_token_id"]

    private static func ropeScaling(_ file: GGUFFile, arch: String, headDim: Int) throws -> RopeScaling {
        var scaling = RopeScaling()
        if let factors = file.tensors["rope_freqs.weight"] {
            guard factors.dtype == .f32, factors.elementCount == headDim / 2 else {
                throw FormatError("\(file.path): rope_freqs.weight must be \(headDim / 2) f32 values")
            }
            scaling.kind = .frequencyFactors
            scaling.factors = Array(UnsafeBufferPointer(start: factors.data.assumingMemoryBound(to: Float.self), count: headDim / 2))
            return scaling
        }
        switch file.metadata["\(arch).rope.scaling.type"]?.stringValue ?? "none" {
        case "none": break
        case "linear":
            scaling.kind = .linear
            scaling.factor = file.metadata["\(arch).rope.scaling.factor"]?.doubleValue ?? 1
        case let other: throw FormatError("\(file.path): unsupported rope scaling '\(other)'")
        }
        return scaling
    }

    /// The metadata llama.cpp reads for this architecture. LLaMA-3 scaling is not a key but the
    /// rope_freqs tensor, which the model writer adds.
    public var ggufMetadata: [(String, GGUFEntry)] {
        let arch = ggufArchitecture
        var entries: [(String, GGUFEntry)] = [
            ("general.architecture", .string(arch)),
            ("\(arch).vocab_size", .uint32(UInt32(vocabSize))),
            ("\(arch).context_length", .uint32(UInt32(maxPositionEmbeddings))),
            ("\(arch).embedding_length", .uint32(UInt32(hiddenSize))),
            ("\(arch).block_count", .uint32(UInt32(numHiddenLayers))),
            // llama.cpp's qwen files give the configured width, twice the real one.
            ("\(arch).feed_forward_length", .uint32(UInt32(family == .qwen ? 2 * intermediateSize : intermediateSize))),
            ("\(arch).attention.head_count", .uint32(UInt32(numAttentionHeads))),
            ("\(arch).attention.head_count_kv", .uint32(UInt32(numKeyValueHeads))),
            ("\(arch).attention.key_length", .uint32(UInt32(headDim))),
            ("\(arch).attention.value_length", .uint32(UInt32(headDim))),
            ("\(arch).rope.dimension_count", .uint32(UInt32(rotaryDimensions))),
            ("\(arch).rope.freq_base", .float32(Float(ropeTheta))),
            ("\(arch).attention.layer_norm_rms_epsilon", .float32(Float(rmsNormEps))),
        ]
        if let slidingWindow { entries.append(("\(arch).attention.sliding_window", .uint32(UInt32(slidingWindow)))) }
        // llama.cpp's own bias for Baichuan-13B, written so the choice does not rest on the layer count.
        if family == .baichuan, positionEncoding == .alibi { entries.append(("baichuan.attention.max_alibi_bias", .float32(8))) }
        if ropeScaling.kind == .linear {
            entries += [("\(arch).rope.scaling.type", .string("linear")), ("\(arch).rope.scaling.factor", .float32(Float(ropeScaling.factor)))]
        }
        return entries
    }
}

extension GenerationConfig {
    /// Sampling defaults from GGUF's general.sampling.* keys.
    public init(gguf metadata: GGUFMetadata) {
        self.init()
        temperature = metadata["general.sampling.temp"]?.doubleValue
        topP = metadata["general.sampling.top_p"]?.doubleValue
        topK = metadata["general.sampling.top_k"]?.intValue
        repetitionPenalty = metadata["general.sampling.penalty_repeat"]?.doubleValue
        eosTokenIds = ModelConfig.ggufEndTokenKeys.compactMap { metadata[$0]?.intValue }
    }

    public var ggufMetadata: [(String, GGUFEntry)] {
        var entries: [(String, GGUFEntry)] = []
        if let temperature { entries.append(("general.sampling.temp", .float32(Float(temperature)))) }
        if let topP { entries.append(("general.sampling.top_p", .float32(Float(topP)))) }
        if let topK { entries.append(("general.sampling.top_k", .int32(Int32(clamping: topK)))) }
        if let repetitionPenalty { entries.append(("general.sampling.penalty_repeat", .float32(Float(repetitionPenalty)))) }
        return entries
    }
}
