// A model's chat template: where it comes from (chat_template.jinja, tokenizer_config.json, GGUF
// metadata or a file the user gives) and rendering `messages` with it as transformers does.
import Foundation
import TernFormats

public struct ChatTemplate: Sendable {
    public let template: JinjaTemplate
    /// The template's text.
    public let source: String
    /// The model's "tool_use" template, used instead when a request gives tools (as transformers does).
    public let toolUseTemplate: JinjaTemplate?
    /// bos_token, eos_token and the other special tokens the template may print.
    public let specialTokens: [String: String]

    public init(source: String, toolUseSource: String? = nil, specialTokens: [String: String] = [:]) throws {
        template = try JinjaTemplate(source)
        self.source = source
        toolUseTemplate = try toolUseSource.map(JinjaTemplate.init)
        self.specialTokens = specialTokens
    }

    static let specialTokenNames = ["bos_token", "eos_token", "unk_token", "pad_token", "sep_token", "cls_token", "mask_token"]

    /// The template of a model folder, or nil when it has none. Of a list of named templates,
    /// "default" is the template and "tool_use" the one for requests with tools.
    public static func load(directory: URL) throws -> ChatTemplate? {
        guard let found = try sources(directory: directory) else { return nil }
        return try ChatTemplate(source: found.source, toolUseSource: found.toolUse, specialTokens: found.specialTokens)
    }

    /// The template texts of a model folder, as GGUF metadata (`tokenizer.chat_template[.tool_use]`).
    public static func ggufMetadata(directory: URL) throws -> [(String, GGUFEntry)] {
        guard let found = try sources(directory: directory) else { return [] }
        return [("tokenizer.chat_template", .string(found.source))] + (found.toolUse.map { [("tokenizer.chat_template.tool_use", .string($0))] } ?? [])
    }

    private static func sources(directory: URL) throws -> (source: String, toolUse: String?, specialTokens: [String: String])? {
        let configURL = directory.appendingPathComponent("tokenizer_config.json")
        let config = FileManager.default.fileExists(atPath: configURL.path) ? try JSONParser.parse(contentsOf: configURL) : nil
        var tokens: [String: String] = [:]
        for key in specialTokenNames {
            if let text = config?[key]?.stringValue ?? config?[key]?["content"]?.stringValue { tokens[key] = text }
        }
        let file = directory.appendingPathComponent("chat_template.jinja")
        if FileManager.default.fileExists(atPath: file.path) {
            return (try String(contentsOf: file, encoding: .utf8), nil, tokens)
        }
        guard let source = try pick(config?["chat_template"], named: "default") else { return nil }
        let toolUse = try pick(config?["chat_template"], named: "tool_use")
        return (source, toolUse == source ? nil : toolUse, tokens)
    }

    /// The template in GGUF metadata (`tokenizer.chat_template`), with BOS/EOS texts from the vocabulary.
    public static func load(gguf metadata: GGUFMetadata) throws -> ChatTemplate? {
        guard let source = metadata["tokenizer.chat_template"]?.stringValue else { return nil }
        let tokens = metadata["tokenizer.ggml.tokens"]?.arrayValue
        var special: [String: String] = [:]
        for (key, idKey) in [("bos_token", "tokenizer.ggml.bos_token_id"), ("eos_token", "tokenizer.ggml.eos_token_id")] {
            if let id = metadata[idKey]?.intValue, let tokens, tokens.indices.contains(id), let text = tokens[id].stringValue {
                special[key] = text
            }
        }
        return try ChatTemplate(source: source, toolUseSource: metadata["tokenizer.chat_template.tool_use"]?.stringValue, specialTokens: special)
    }

    private static func pick(_ value: JSONValue?, named name: String) throws -> String? {
        if let single = value?.stringValue { return single }
        guard let list = value?.arrayValue else { return nil }
        var named: [String: String] = [:]
        for entry in list {
            if let key = entry["name"]?.stringValue, let template = entry["template"]?.stringValue { named[key] = template }
        }
        return named[name] ?? named["default"]
    }

    /// Renders the conversation. `messages`, `tools` and `documents` are JSON as the API receives them.
    public func render(messages: [JSONValue], addGenerationPrompt: Bool, tools: [JSONValue]? = nil,
                       documents: [JSONValue]? = nil, extra: [String: JSONValue] = [:], now: Date = Date()) throws -> String {
        var context: [String: JinjaValue] = [:]
        for (key, value) in specialTokens { context[key] = .string(value) }
        for (key, value) in extra { context[key] = JinjaValue(value) }
        context["messages"] = .array(messages.map(JinjaValue.init))
        context["add_generation_prompt"] = .bool(addGenerationPrompt)
        context["tools"] = tools.map { .array($0.map(JinjaValue.init)) } ?? JinjaValue.none
        context["documents"] = documents.map { .array($0.map(JinjaValue.init)) } ?? JinjaValue.none
        let chosen = tools != nil ? (toolUseTemplate ?? template) : template
        return try chosen.render(context, now: now)
    }
}
