// The sampling and streaming fields chat and text completions share, read and range-checked
// as the OpenAI API documents them, plus vLLM's extensions (top_k, min_p, repetition_penalty, ...).
import TernEngine
import TernFormats

struct GenerationOptions {
    var parameters = SamplingParameters()
    var n = 1
    var stream = false
    var includeUsage = false
    /// max_tokens as the client gave it; nil means "the rest of the context".
    var requestedMaxTokens: Int?

    init(_ fields: RequestFields, vocabularySize: Int, chat: Bool) throws {
        try UnsupportedFields.check(fields, chat: chat)
        var p = SamplingParameters()
        requestedMaxTokens = try fields.int("max_completion_tokens", in: 1...Int(Int32.max)) ?? fields.int("max_tokens", in: 1...Int(Int32.max))
        p.temperature = try fields.double("temperature", in: 0...2) ?? 1
        p.topP = try fields.double("top_p", in: 0...1) ?? 1
        if p.topP == 0 { throw APIError.badRequest("'top_p' must be greater than 0", param: "top_p") }
        n = try fields.int("n", in: 1...128) ?? 1
        // best_of only picks the most likely of several samples; as many samples as returned is the same as none.
        if let bestOf = try fields.int("best_of", in: 1...128), bestOf != n {
            throw APIError.badRequest("'best_of' must equal 'n' (\(n)): choosing among extra samples is not supported", param: "best_of")
        }
        p.stop = try fields.strings("stop")
        if p.stop.contains("") { throw APIError.badRequest("'stop' strings must not be empty", param: "stop") }
        if let seed = try fields.int("seed", in: Int.min...Int.max) { p.seed = UInt64(bitPattern: Int64(seed)) }
        p.presencePenalty = try fields.double("presence_penalty", in: -2...2) ?? 0
        p.frequencyPenalty = try fields.double("frequency_penalty", in: -2...2) ?? 0
        p.logitBias = try Self.logitBias(fields, vocabularySize: vocabularySize)
        if chat {
            let wantsLogprobs = try fields.bool("logprobs") ?? false
            let top = try fields.int("top_logprobs", in: 0...20)
            if top != nil, !wantsLogprobs { throw APIError.badRequest("'top_logprobs' requires 'logprobs' to be true", param: "top_logprobs") }
            p.logprobs = wantsLogprobs ? (top ?? 0) : nil
        } else {
            p.logprobs = try fields.int("logprobs", in: 0...20)
        }
        stream = try fields.bool("stream") ?? false
        if let options = fields.value("stream_options") {
            guard let object = options.objectValue else { throw APIError.badRequest("'stream_options' must be an object", param: "stream_options") }
            guard stream else { throw APIError.badRequest("'stream_options' is only allowed with 'stream': true", param: "stream_options") }
            includeUsage = try RequestFields(object: object).bool("include_usage") ?? false
        }
        p.topK = try fields.int("top_k", in: -1...Int(Int32.max)) ?? 0
        p.minP = try fields.double("min_p", in: 0...1) ?? 0
        p.repetitionPenalty = try fields.double("repetition_penalty", in: 0.01...10) ?? 1
        p.ignoreEOS = try fields.bool("ignore_eos") ?? false
        p.minTokens = try fields.int("min_tokens", in: 0...Int(Int32.max)) ?? 0
        // OpenAI's cache-routing hint needs nothing here: the prefix cache serves every shared start.
        _ = try fields.string("prompt_cache_key")
        p.stopTokenIds = try fields.ints("stop_token_ids")
        if let bad = p.stopTokenIds.first(where: { !(0..<vocabularySize).contains($0) }) {
            throw APIError.badRequest("'stop_token_ids' holds \(bad), which is not a token id of this model (0..<\(vocabularySize))", param: "stop_token_ids")
        }
        parameters = p
    }

    private static func logitBias(_ fields: RequestFields, vocabularySize: Int) throws -> [Int: Double] {
        guard let value = fields.value("logit_bias") else { return [:] }
        guard let object = value.objectValue else { throw APIError.badRequest("'logit_bias' must be an object of token id to bias", param: "logit_bias") }
        var bias: [Int: Double] = [:]
        for (key, entry) in object.pairs {
            guard let id = Int(key), (0..<vocabularySize).contains(id) else {
                throw APIError.badRequest("'logit_bias' key '\(key)' is not a token id of this model", param: "logit_bias")
            }
            guard let amount = entry.doubleValue, (-100...100).contains(amount) else {
                throw APIError.badRequest("'logit_bias' values must be numbers between -100 and 100", param: "logit_bias")
            }
            bias[id] = amount
        }
        return bias
    }

    /// Fixes max_tokens against the context: the rest of it when not given, a 400 when it does not fit.
    mutating func fit(promptTokens: Int, maxModelLength: Int) throws {
        let room = maxModelLength - promptTokens
        guard room > 0, requestedMaxTokens.map({ $0 <= room }) ?? true else {
            let asked = requestedMaxTokens.map { "\(promptTokens + $0) tokens (\(promptTokens) in the prompt, \($0) in the completion)" }
                ?? "\(promptTokens) tokens in the prompt"
            throw APIError.badRequest("This model's maximum context length is \(maxModelLength) tokens. However, you requested \(asked). "
                                      + "Please reduce the length of the prompt or the completion.", param: requestedMaxTokens == nil ? "messages" : "max_tokens")
        }
        parameters.maxTokens = requestedMaxTokens ?? room
        if parameters.minTokens > parameters.maxTokens {
            throw APIError.badRequest("'min_tokens' must not exceed 'max_tokens'", param: "min_tokens")
        }
    }
}

extension RequestFields {
    init(object: JSONObject) {
        self.object = object
    }
}
