// Fields of the OpenAI and vLLM request schemas that Tern does not carry out. Sent with their
// neutral value they change nothing and pass; any other value is a 400 naming the field, so a
// client never believes a feature worked when it was ignored. A field no schema knows is a 400
// too, as OpenAI answers it (a misspelt parameter is never silently dropped).
import TernFormats

enum UnsupportedFields {
    /// A field, the values that mean "off", and what to say.
    private struct Rule: Sendable {
        let field: String
        let neutral: @Sendable (JSONValue) -> Bool
        let reason: String
    }

    private static func isFalse(_ value: JSONValue) -> Bool { value.boolValue == false }
    private static func never(_ value: JSONValue) -> Bool { false }

    private static let shared: [Rule] = [
        Rule(field: "use_beam_search", neutral: isFalse, reason: "beam search is not supported"),
        Rule(field: "length_penalty", neutral: { $0.doubleValue == 1 }, reason: "length_penalty applies to beam search, which is not supported"),
        Rule(field: "prompt_logprobs", neutral: never, reason: "prompt log probabilities are not supported"),
        Rule(field: "include_stop_str_in_output", neutral: isFalse, reason: "stop strings are always left out of the output"),
        Rule(field: "skip_special_tokens", neutral: { $0.boolValue == true }, reason: "special tokens are always left out of the text"),
        Rule(field: "spaces_between_special_tokens", neutral: { $0.boolValue == true }, reason: "not supported"),
        Rule(field: "truncate_prompt_tokens", neutral: never, reason: "prompts are never truncated; send a shorter prompt"),
        Rule(field: "store", neutral: isFalse, reason: "completions are not stored"),
        Rule(field: "metadata", neutral: { $0.objectValue?.count == 0 }, reason: "metadata is kept only with stored completions, which this server does not store"),
        Rule(field: "service_tier", neutral: { ["auto", "default"].contains($0.stringValue ?? "") }, reason: "there is one service tier"),
        Rule(field: "guided_decoding_backend", neutral: never, reason: "this server has one constrained-decoding engine; leave the field out"),
        Rule(field: "guided_whitespace_pattern", neutral: never,
             reason: "JSON constraints allow one optional space after ':' and ','; other whitespace patterns are not supported"),
    ]

    private static let chatOnly: [Rule] = [
        Rule(field: "functions", neutral: never, reason: "the deprecated functions API is not supported; send 'tools'"),
        Rule(field: "function_call", neutral: never, reason: "the deprecated functions API is not supported; send 'tools'"),
        Rule(field: "audio", neutral: never, reason: "audio output is not supported"),
        Rule(field: "modalities", neutral: { $0 == .array([.string("text")]) }, reason: "only [\"text\"] is supported"),
        Rule(field: "prediction", neutral: never, reason: "predicted outputs are not supported"),
        Rule(field: "web_search_options", neutral: never, reason: "web search is not supported"),
        Rule(field: "reasoning_effort", neutral: never, reason: "reasoning effort is not supported"),
        Rule(field: "verbosity", neutral: never, reason: "verbosity is not supported"),
        Rule(field: "moderation", neutral: never, reason: "moderation is not supported"),
        Rule(field: "prompt_cache_retention", neutral: { $0.stringValue == "in_memory" }, reason: "the prefix cache lives in memory only"),
        Rule(field: "prompt_cache_options", neutral: never, reason: "the prefix cache has no options per request"),
    ]

    private static let textOnly: [Rule] = [
        Rule(field: "suffix", neutral: { $0.stringValue == "" }, reason: "insertion with a suffix is not supported"),
    ]

    /// Every field the server reads or refuses by rule; `prompt_cache_key` is accepted because the
    /// prefix cache already serves every request with a shared start.
    private static let handled: Set<String> = [
        "model", "stream", "stream_options", "n", "best_of", "max_tokens", "temperature", "top_p", "top_k", "min_p", "seed", "stop",
        "stop_token_ids", "presence_penalty", "frequency_penalty", "repetition_penalty", "logit_bias", "logprobs", "ignore_eos",
        "min_tokens", "user", "safety_identifier", "prompt_cache_key", "response_format", "guided_json", "guided_regex",
        "guided_choice", "guided_grammar", "structured_outputs",
    ]
    private static let handledChat: Set<String> = [
        "messages", "max_completion_tokens", "top_logprobs", "tools", "tool_choice", "parallel_tool_calls", "chat_template",
        "chat_template_kwargs", "add_generation_prompt", "continue_final_message", "documents",
    ]
    private static let handledText: Set<String> = ["prompt", "echo"]

    static func check(_ fields: RequestFields, chat: Bool) throws {
        let rules = shared + (chat ? chatOnly : textOnly)
        let known = handled.union(chat ? handledChat : handledText).union(rules.map(\.field))
        if let unknown = fields.object.keys.first(where: { !known.contains($0) }) {
            throw APIError.badRequest("Unrecognized request argument supplied: '\(unknown)'", param: unknown)
        }
        for rule in rules {
            guard let value = fields.value(rule.field), !rule.neutral(value) else { continue }
            throw APIError.badRequest("'\(rule.field)' is not supported by this server: \(rule.reason)", param: rule.field)
        }
    }
}
