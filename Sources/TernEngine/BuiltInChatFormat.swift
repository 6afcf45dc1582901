// Chat formats of the families whose repositories ship no Jinja template, built token by token
// as each model's own Python helper builds them: ChatGLM3's build_chat_input, Baichuan2's
// build_chat_input, Qwen's make_context. Each also has a Jinja text form for display (`tern
// template`, logs); the ids come from the builder, because the helpers encode every piece on its
// own (SentencePiece's dummy prefix per piece, Qwen's newline before content) and put role ids in
// directly, which no tokenization of one rendered string reproduces.
import TernFormats
import TernTemplates
import TernTokenizer

public enum BuiltInChatFormat: String, Sendable {
    case chatGLM3, baichuan2, qwenChatML

    public static func of(_ family: ModelFamily) -> BuiltInChatFormat? {
        switch family {
        case .chatglm: return .chatGLM3
        case .baichuan: return .baichuan2
        case .qwen: return .qwenChatML
        case .llama: return nil
        }
    }

    /// The text form, for display and for --chat-template users to start from.
    public var textTemplate: String {
        switch self {
        case .chatGLM3:
            return "[gMASK]sop{% for m in messages %}<|{{ m.role }}|>{{ m.metadata or '' }}\n {{ m.content }}{% endfor %}"
                + "{% if add_generation_prompt %}<|assistant|>{% endif %}"
        case .baichuan2:
            return "{% for m in messages %}{% if m.role == 'system' %}{{ m.content }}{% elif m.role == 'user' %}<reserved_106>{{ m.content }}"
                + "{% else %}<reserved_107>{{ m.content }}{% endif %}{% endfor %}{% if add_generation_prompt %}<reserved_107>{% endif %}"
        case .qwenChatML:
            return "{% if messages[0].role != 'system' %}<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n{% endif %}"
                + "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}"
                + "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
        }
    }

    /// Tokens that end the model's turn (beyond the tokenizer's EOS): what each helper stops on.
    public var stopTokens: [String] {
        switch self {
        case .chatGLM3: return ["<|user|>", "<|observation|>"]
        case .baichuan2: return []
        case .qwenChatML: return ["<|im_end|>", "<|im_start|>", "<|endoftext|>"]
        }
    }

    /// Whether the format can offer tools to the model (ChatGLM3's system message lists them).
    public var takesTools: Bool { self == .chatGLM3 }

    /// The prompt ids of a conversation. With `addGenerationPrompt` off the last message stays
    /// open (the model continues it). `tools` (OpenAI function tools) go where the format puts them.
    public func tokens(messages: [JSONValue], addGenerationPrompt: Bool, tokenizer: Tokenizer, tools: [JSONValue]? = nil) throws -> [Int] {
        func id(_ token: String) throws -> Int {
            guard let id = tokenizer.id(of: token) else { throw EngineError("the tokenizer has no \(token) token, which this chat format needs") }
            return id
        }
        func encode(_ text: String) -> [Int] { tokenizer.encode(text, addSpecialTokens: false, parseSpecialTokens: false) }
        var turns = try messages.map { message -> (role: String, content: String, metadata: String) in
            guard var role = message["role"]?.stringValue else { throw EngineError("every message needs a role") }
            // OpenAI's names: developer is the system prompt; a tool result is ChatGLM3's observation.
            if role == "developer" { role = "system" }
            if role == "tool", self == .chatGLM3 { role = "observation" }
            if self == .chatGLM3, let call = message["tool_calls"]?.arrayValue?.first { return ("assistant", try ChatGLM3Tools.callText(call), try ChatGLM3Tools.callName(call)) }
            let content = message["content"]?.stringValue ?? ""
            return (role, content, message["metadata"]?.stringValue ?? "")
        }
        if let tools, !tools.isEmpty {
            guard takesTools else { throw EngineError("this model's built-in \(rawValue) chat format has no place for tools") }
            let listing = try ChatGLM3Tools.listing(tools)
            if turns.first?.role == "system" { turns[0].content += "\n" + listing } else { turns.insert(("system", ChatGLM3Tools.preamble + "\n" + listing, ""), at: 0) }
        }
        switch self {
        case .chatGLM3:
            var ids = [try id("[gMASK]"), try id("sop")]
            for turn in turns {
                guard ["system", "user", "assistant", "observation"].contains(turn.role) else {
                    throw EngineError("ChatGLM3 has no '\(turn.role)' role (system, user, assistant, tool/observation)")
                }
                ids += [try id("<|\(turn.role)|>")] + encode("\(turn.metadata)\n") + encode(turn.content)
            }
            return addGenerationPrompt ? ids + [try id("<|assistant|>")] : ids
        case .baichuan2:
            // generation_config.json's user_token_id 195 and assistant_token_id 196 are these pieces.
            var ids: [Int] = []
            for (index, turn) in turns.enumerated() {
                switch turn.role {
                case "system" where index == 0: ids += encode(turn.content)
                case "user": ids += [try id("<reserved_106>")] + encode(turn.content)
                case "assistant": ids += [try id("<reserved_107>")] + encode(turn.content)
                default: throw EngineError("Baichuan2 takes a first system message, then user and assistant messages; got '\(turn.role)'")
                }
            }
            return addGenerationPrompt && turns.last?.role != "assistant" ? ids + [try id("<reserved_107>")] : ids
        case .qwenChatML:
            let start = try id("<|im_start|>"), end = try id("<|im_end|>"), newline = encode("\n")
            var conversation = turns
            if conversation.first?.role != "system" { conversation.insert(("system", "You are a helpful assistant.", ""), at: 0) }
            var ids: [Int] = []
            for (index, turn) in conversation.enumerated() {
                if index > 0 { ids += newline }
                ids += [start] + encode(turn.role) + newline + encode(turn.content)
                if addGenerationPrompt || index < conversation.count - 1 { ids.append(end) }
            }
            return addGenerationPrompt ? ids + newline + [start] + encode("assistant") + newline : ids
        }
    }
}
