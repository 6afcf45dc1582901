// How a model family writes calls to the request's tools in its reply, and which one a model
// uses: named by --tool-call-parser, or read from its chat template's tool instructions.
import TernFormats

public enum ToolCallFormat: String, CaseIterable, Sendable {
    /// Qwen2/2.5/3 and Hermes: `<tool_call>{"name": ..., "arguments": {...}}</tool_call>`, a block per call.
    case hermes
    /// Llama 3.1-3.3: the reply is a JSON object `{"name": ..., "parameters": {...}}` (after
    /// `<|python_tag|>` if the model writes one); several calls are separated by `;`.
    case llama3JSON = "llama3_json"
    /// Mistral: `[TOOL_CALLS]` and a JSON list of `{"name", "arguments"}`, or (tokenizer v11 on)
    /// `[TOOL_CALLS]name[ARGS]{...}` per call.
    case mistral
    /// ChatGLM3: the reply's first line names the tool, then ```` ```python ```` `tool_call(key=value, ...)`.
    case chatglm3

    /// What `--tool-call-parser` accepts.
    public static var names: String { allCases.map(\.rawValue).joined(separator: ", ") }

    /// The format a model's chat template asks for in its tool instructions, or its family's own.
    public static func detect(template: String?, family: ModelFamily) -> ToolCallFormat? {
        if family == .chatglm { return .chatglm3 }
        guard let template else { return nil }
        if template.contains("<tool_call>") { return .hermes }
        if template.contains("[TOOL_CALLS]") { return .mistral }
        if template.contains("<|python_tag|>") || (template.contains("<|start_header_id|>") && template.contains("\"parameters\"")) {
            return .llama3JSON
        }
        return nil
    }

    /// Marker tokens of the format that tokenizers count as special (and leave out of text unless asked).
    public var needsSpecialTokens: Bool { self == .mistral || self == .llama3JSON }

    /// The text that opens the calls part of a reply; nil where only the reply's start can open it.
    var opening: String? {
        switch self {
        case .hermes: return "<tool_call>"
        case .mistral: return "[TOOL_CALLS]"
        case .llama3JSON, .chatglm3: return nil
        }
    }

    /// Whether a reply that begins this way is calls (for formats without an opening marker).
    func startsCalls(_ reply: Substring) -> Bool? {
        switch self {
        case .llama3JSON:
            let trimmed = reply.drop { $0.isWhitespace }
            guard let first = trimmed.first else { return nil }
            if first == "{" { return true }
            let tag = "<|python_tag|>"
            return tag.hasPrefix(trimmed.prefix(tag.count)) ? (trimmed.count >= tag.count ? true : nil) : false
        case .chatglm3:
            // A plain reply starts on a new line (its empty tool-name line), perhaps after a space.
            guard let first = reply.drop(while: { $0 == " " }).first else { return nil }
            return first != "\n"
        case .hermes, .mistral:
            return false
        }
    }
}
