// Turns a conversation into prompt tokens: the model's chat template renders it, then the
// text is tokenized with special tokens recognised and BOS added only if the template did not write it.
import Foundation
import TernFormats
import TernTemplates
import TernTokenizer

public struct ChatPrompt: Sendable {
    public let template: ChatTemplate
    public let tokenizer: Tokenizer
    /// Where the model has no template of its own: its family's format, which builds the ids
    /// (`template` is then that format's text form, for display).
    public let builtIn: BuiltInChatFormat?

    public init(template: ChatTemplate, tokenizer: Tokenizer, builtIn: BuiltInChatFormat? = nil) {
        self.template = template
        self.tokenizer = tokenizer
        self.builtIn = builtIn
    }

    /// The prompt ids of a conversation that ends with a generation prompt.
    public func ids(messages: [JSONValue]) throws -> [Int] {
        if let builtIn { return try builtIn.tokens(messages: messages, addGenerationPrompt: true, tokenizer: tokenizer) }
        return tokenize(try render(messages: messages))
    }

    /// Reads a template file given by the user (`--chat-template FILE`), keeping the model's special tokens.
    public static func template(file: String, specialTokensOf model: ChatTemplate?, tokenizer: Tokenizer) throws -> ChatTemplate {
        let source: String
        do { source = try String(contentsOfFile: file, encoding: .utf8) } catch {
            throw EngineError("cannot read chat template \(file): \(error.localizedDescription)")
        }
        var special = model?.specialTokens ?? [:]
        if special["bos_token"] == nil, let bos = tokenizer.bosToken { special["bos_token"] = bos }
        if special["eos_token"] == nil, let eos = tokenizer.eosToken { special["eos_token"] = eos }
        return try ChatTemplate(source: source, specialTokens: special)
    }

    public func render(messages: [JSONValue], addGenerationPrompt: Bool = true, tools: [JSONValue]? = nil,
                       documents: [JSONValue]? = nil, extra: [String: JSONValue] = [:]) throws -> String {
        try template.render(messages: messages, addGenerationPrompt: addGenerationPrompt, tools: tools, documents: documents, extra: extra)
    }

    /// Renders a one-message conversation so a template that breaks the render limits on any
    /// input (a runaway loop, a string that doubles) stops the server at startup, not per request.
    /// Errors the template raises on purpose (raise_exception) are left to the requests.
    public func checkRendersWithinLimits() throws {
        do {
            _ = try render(messages: [["role": "user", "content": "Hello"]])
        } catch let error as TemplateError where error.isResourceLimit {
            throw EngineError("the chat template exceeds the render limits: \(error)")
        } catch is TemplateError {
        }
    }

    public func tokenize(_ rendered: String) -> [Int] {
        let startsWithBOS = tokenizer.bosToken.map { !$0.isEmpty && rendered.hasPrefix($0) } ?? false
        return tokenizer.encode(rendered, addSpecialTokens: !startsWithBOS)
    }
}
