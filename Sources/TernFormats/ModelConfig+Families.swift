// config.json of the remote-code families (ChatGLM, Baichuan, Qwen first generation), each read
// with its own key names and mapped onto the shared decoder's named variations.

extension ModelConfig {
    /// ChatGLM2/3 (`modeling_chatglm.py`): multi-query groups, rotary on half of each head in
    /// adjacent pairs, context capped by `seq_length`, the RoPE base scaled by `rope_ratio` (32K/128K).
    init(chatGLM json: JSONValue, architecture: String) throws {
        func int(_ keys: String...) throws -> Int { try Self.positiveInt(json, keys) }
        let hidden = try int("hidden_size"), heads = try int("num_attention_heads")
        let groups = json["multi_query_attention"]?.boolValue == true ? try int("multi_query_group_num") : heads
        try self.init(architecture: architecture, vocabSize: int("padded_vocab_size", "vocab_size"), hiddenSize: hidden,
                      intermediateSize: int("ffn_hidden_size"), numHiddenLayers: int("num_layers", "num_hidden_layers"),
                      numAttentionHeads: heads, numKeyValueHeads: groups, headDim: json["kv_channels"]?.intValue ?? hidden / heads)
        try checkHeads()
        for (key, needed) in [("rmsnorm", true), ("post_layer_norm", true), ("apply_residual_connection_post_layernorm", false)]
        where (json[key]?.boolValue ?? needed) != needed {
            throw FormatError("'\(key)': \(!needed) is not supported (ChatGLM2/3 checkpoints have \(needed))")
        }
        if let prefix = json["pre_seq_len"], prefix.intValue != nil {
            throw FormatError("'pre_seq_len' is set: P-tuning v2 prefix checkpoints are not supported; merge or drop the prefix encoder")
        }
        rmsNormEps = json["layernorm_epsilon"]?.doubleValue ?? 1e-5
        ropeTheta = 10000 * (json["rope_ratio"]?.doubleValue ?? 1)
        rotaryDimensions = headDim / 2
        rotaryAdjacentPairs = json["original_rope"]?.boolValue ?? true
        qkvBias = json["add_qkv_bias"]?.boolValue ?? false
        outputBias = json["add_bias_linear"]?.boolValue ?? false
        mlpBias = outputBias
        // The original code builds its rotary table for seq_length positions and no more.
        maxPositionEmbeddings = try int("seq_length")
        tieWordEmbeddings = json["tie_word_embeddings"]?.boolValue ?? false
    }

    /// Baichuan 1/2. Which positional scheme a checkpoint uses is written in the modeling_baichuan.py
    /// it ships (7B rotary, 13B ALiBi), so that decides; without it, the 7B configs name
    /// max_position_embeddings and the 13B ones do not; without that, the shape (vLLM's rule:
    /// hidden 4096 is 7B).
    init(baichuan json: JSONValue, architecture: String, modelingCode: String?) throws {
        func int(_ key: String) throws -> Int { try Self.positiveInt(json, [key]) }
        let hidden = try int("hidden_size"), heads = try int("num_attention_heads")
        try self.init(architecture: architecture, vocabSize: int("vocab_size"), hiddenSize: hidden,
                      intermediateSize: int("intermediate_size"), numHiddenLayers: int("num_hidden_layers"),
                      numAttentionHeads: heads, numKeyValueHeads: heads, headDim: hidden / heads)
        try checkHeads()
        rmsNormEps = json["rms_norm_eps"]?.doubleValue ?? 1e-6
        maxPositionEmbeddings = json["max_position_embeddings"]?.intValue ?? json["model_max_length"]?.intValue ?? 4096
        tieWordEmbeddings = json["tie_word_embeddings"]?.boolValue ?? false
        if let code = modelingCode, code.contains("alibi") != code.contains("RotaryEmbedding") {
            positionEncoding = code.contains("alibi") ? .alibi : .rotary
            positionEncodingReason = "modeling_baichuan.py beside the config uses \(positionEncoding)"
        } else if json["max_position_embeddings"] != nil {
            positionEncoding = .rotary
            positionEncodingReason = "no modeling_baichuan.py says which; the config names max_position_embeddings, as the 7B (RoPE) configs do"
        } else {
            positionEncoding = hidden == 4096 ? .rotary : .alibi
            positionEncodingReason = "no modeling_baichuan.py says which; hidden_size \(hidden) is the \(hidden == 4096 ? "7B shape (RoPE)" : "13B shape (ALiBi)")"
        }
        // Baichuan2's LM head normalises its rows (class NormHead); Baichuan 1 has a plain one.
        normalizedHead = modelingCode.map { $0.contains("class NormHead") } ?? (vocabSize == 125696)
    }

    /// Qwen first generation (`modeling_qwen.py`), with the first release's key names too
    /// (n_embd, n_head, n_layer, ffn_hidden_size, n_positions). Its MLP width is half the
    /// configured intermediate size: w1 and w2 are both intermediate_size / 2 wide.
    init(qwen json: JSONValue, architecture: String) throws {
        func int(_ key: String, _ old: String) throws -> Int { try Self.positiveInt(json, [key, old]) }
        let hidden = try int("hidden_size", "n_embd"), heads = try int("num_attention_heads", "n_head")
        let width = try int("intermediate_size", "ffn_hidden_size")
        guard width % 2 == 0 else { throw FormatError("'intermediate_size' \(width) must be even (w1 and w2 are half as wide each)") }
        let headDim = json["kv_channels"]?.intValue ?? hidden / heads
        guard headDim * heads == hidden else { throw FormatError("kv_channels \(headDim) × \(heads) heads must equal hidden_size \(hidden)") }
        try self.init(architecture: architecture, vocabSize: int("vocab_size", "padded_vocab_size"), hiddenSize: hidden,
                      intermediateSize: width / 2, numHiddenLayers: int("num_hidden_layers", "n_layer"),
                      numAttentionHeads: heads, numKeyValueHeads: heads, headDim: headDim)
        try checkHeads()
        rmsNormEps = json["layer_norm_epsilon"]?.doubleValue ?? 1e-6
        ropeTheta = json["rotary_emb_base"]?.doubleValue ?? 10000
        rotaryDimensions = Int(Double(headDim) * (json["rotary_pct"]?.doubleValue ?? 1))
        qkvBias = true
        tieWordEmbeddings = json["tie_word_embeddings"]?.boolValue ?? false
        let trained = json["seq_length"]?.intValue ?? 2048
        // The logn table of the original code covers 32767 positions; that caps the context.
        maxPositionEmbeddings = min(json["max_position_embeddings"]?.intValue ?? json["n_positions"]?.intValue ?? trained, 32767)
        longContext = LongContextRules(trainedLength: trained, dynamicNTK: json["use_dynamic_ntk"]?.boolValue ?? true,
                                       lognAttention: json["use_logn_attn"]?.boolValue ?? true)
    }
}

extension ModelConfig {
    /// 0 when a sequence's keys depend on its tokens alone; otherwise a value naming how they were
    /// computed (Qwen's NTK alpha for prompts past the trained length), so a prefix cache keyed on
    /// it never hands keys rotated one way to a sequence that rotates them another.
    public func kvCacheVariant(promptLength: Int) -> UInt64 {
        let alpha = longContext?.ntkAlpha(promptLength: promptLength) ?? 1
        return alpha == 1 ? 0 : UInt64(alpha)
    }
}
