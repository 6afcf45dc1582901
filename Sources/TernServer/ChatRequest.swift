// The prompt of a chat request: its messages laid out by the chat template, then tokenized.
// A template sent with the request is code the server runs, so it needs the operator's consent
// (--trust-request-chat-template); every template renders within the interpreter's limits.
import Foundation
import TernEngine
import TernFormats
import TernTemplates

enum ChatRequest {
    static let roles: Set<String> = ["system", "developer", "user", "assistant", "tool"]

    static func promptTokens(_ fields: RequestFields, server: ModelServer, trustRequestTemplate: Bool) throws -> [Int] {
        guard let list = fields.value("messages")?.arrayValue, !list.isEmpty else {
            throw APIError.badRequest("'messages' must be a non-empty list", param: "messages")
        }
        let messages = try list.enumerated().map { try normalize($1, index: $0) }
        let tools = try fields.value("tools").map { value -> [JSONValue] in
            guard let tools = value.arrayValue else { throw APIError.badRequest("'tools' must be a list", param: "tools") }
            return tools
        }
        let documents = try fields.value("documents").map { value -> [JSONValue] in
            guard let documents = value.arrayValue else { throw APIError.badRequest("'documents' must be a list", param: "documents") }
            return documents
        }
        let prompt = try chosenPrompt(fields, server: server, trusted: trustRequestTemplate)
        let extra = try templateArguments(fields, trusted: trustRequestTemplate)
        let continuing = try fields.bool("continue_final_message") ?? false
        let addGenerationPrompt = try fields.bool("add_generation_prompt")
        if continuing, addGenerationPrompt == true {
            throw APIError.badRequest("'continue_final_message' and 'add_generation_prompt' cannot both be true", param: "continue_final_message")
        }
        if let builtIn = prompt.builtIn {
            for (name, value) in [("tools", tools.map { _ in !builtIn.takesTools }), ("documents", documents.map { _ in true })] where value == true {
                throw APIError.badRequest("'\(name)' needs a chat template; this model's built-in \(builtIn.rawValue) format has none", param: name)
            }
            do {
                return try builtIn.tokens(messages: messages, addGenerationPrompt: !continuing && addGenerationPrompt != false,
                                          tokenizer: server.loaded.tokenizer, tools: tools)
            } catch let error as EngineError {
                throw APIError.badRequest(error.message, param: "messages")
            }
        }
        do {
            var text = try prompt.render(messages: messages, addGenerationPrompt: continuing ? false : addGenerationPrompt ?? true,
                                                  tools: tools, documents: documents, extra: extra)
            if continuing { text = try endInsideFinalMessage(text, messages: messages) }
            return prompt.tokenize(text)
        } catch let error as TemplateError {
            throw APIError.badRequest("the chat template failed on these messages: \(error)", param: "messages")
        }
    }

    private static func chosenPrompt(_ fields: RequestFields, server: ModelServer, trusted: Bool) throws -> ChatPrompt {
        guard let source = try fields.string("chat_template") else {
            do { return try server.chatPrompt.get() } catch { throw APIError.badRequest(error.message, param: "messages") }
        }
        guard trusted else { throw untrusted("chat_template") }
        do {
            let special = (try? server.chatPrompt.get())?.template.specialTokens ?? [:]
            return ChatPrompt(template: try ChatTemplate(source: source, specialTokens: special), tokenizer: server.loaded.tokenizer)
        } catch {
            throw APIError.badRequest("'chat_template' cannot be used: \(error)", param: "chat_template")
        }
    }

    /// `chat_template_kwargs`: extra variables for the template (e.g. enable_thinking).
    private static func templateArguments(_ fields: RequestFields, trusted: Bool) throws -> [String: JSONValue] {
        guard let value = fields.value("chat_template_kwargs") else { return [:] }
        guard trusted else { throw untrusted("chat_template_kwargs") }
        guard let object = value.objectValue else {
            throw APIError.badRequest("'chat_template_kwargs' must be an object", param: "chat_template_kwargs")
        }
        return Dictionary(object.pairs.map { ($0.key, $0.value) }, uniquingKeysWith: { _, last in last })
    }

    private static func untrusted(_ field: String) -> APIError {
        APIError.badRequest("'\(field)' is not accepted by this server: the operator must start it with --trust-request-chat-template",
                            param: field)
    }

    /// The prompt ends where the last message's text ends, so the model continues that message
    /// (transformers' continue_final_message; templates that trim messages are matched trimmed).
    static func endInsideFinalMessage(_ rendered: String, messages: [JSONValue]) throws -> String {
        guard let final = messages.last?["content"]?.stringValue, !final.isEmpty else {
            throw APIError.badRequest("'continue_final_message' needs a last message with text to continue", param: "continue_final_message")
        }
        for candidate in [final, final.trimmingCharacters(in: .whitespacesAndNewlines)] where !candidate.isEmpty {
            if let range = rendered.range(of: candidate, options: .backwards) { return String(rendered[..<range.upperBound]) }
        }
        throw APIError.badRequest("'continue_final_message': the chat template does not print the last message's text", param: "continue_final_message")
    }

    /// Checks a message and turns content given as a list of text parts into one string.
    static func normalize(_ message: JSONValue, index: Int) throws -> JSONValue {
        let param = "messages[\(index)]"
        guard var object = message.objectValue else { throw APIError.badRequest("'\(param)' must be an object", param: param) }
        guard let role = object["role"]?.stringValue, roles.contains(role) else {
            throw APIError.badRequest("'\(param).role' must be one of \(roles.sorted().joined(separator: ", "))", param: "\(param).role")
        }
        switch object["content"] {
        case .string?, .null?:
            break
        case nil:
            object["content"] = .null
        case .array(let parts)?:
            let texts = try parts.map { part -> String in
                guard part["type"]?.stringValue == "text", let text = part["text"]?.stringValue else {
                    throw APIError.badRequest("'\(param).content' parts must be {\"type\": \"text\", \"text\": ...}; other kinds are not supported",
                                              param: "\(param).content")
                }
                return text
            }
            object["content"] = .string(texts.joined(separator: "\n"))
        default:
            throw APIError.badRequest("'\(param).content' must be a string or a list of text parts", param: "\(param).content")
        }
        if object["content"] == .null, role != "assistant" {
            throw APIError.badRequest("'\(param).content' is required for role \(role)", param: "\(param).content")
        }
        return .object(role == "assistant" ? ToolCalling.argumentsAsObjects(object) : object)
    }
}
