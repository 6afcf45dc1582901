// A model (folder or GGUF file) loaded for serving: weights, tokenizer, generation defaults and end tokens.
import Foundation
import TernFormats
import TernModels
import TernTemplates
import TernTokenizer

public struct EngineError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

public final class LoadedModel: Sendable {
    /// The model folder (safetensors, config.json, tokenizer.json) or GGUF file it came from.
    public let path: URL
    public let model: LanguageModel
    public let tokenizer: Tokenizer
    public let generationConfig: GenerationConfig
    /// Tokens that end a sequence unless the request ignores EOS.
    public let endTokenIds: Set<Int>
    /// The model's own chat template, or why chat requests cannot be served without one given.
    public let chatTemplate: Result<ChatTemplate, EngineError>
    /// The family's format, used where the model ships no template (ChatGLM3, Baichuan2, Qwen-1).
    public let builtInChatFormat: BuiltInChatFormat?
    /// Constraints (JSON schemas, regexes, grammars) compiled against this model's vocabulary.
    public let structuredOutput: StructuredOutput

    public init(path: URL, options: LoadOptions = LoadOptions()) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path.path, isDirectory: &isDirectory) else {
            throw EngineError("model path \(path.path) does not exist")
        }
        self.path = path
        let template: () throws -> ChatTemplate?
        if isDirectory.boolValue {
            model = try ModelRegistry.load(directory: path, options: options)
            tokenizer = try Tokenizer.load(directory: path)
            generationConfig = try GenerationConfig.load(directory: path)
            template = { try ChatTemplate.load(directory: path) }
        } else {
            let file = try GGUFFile(path: path.path)
            model = try ModelRegistry.load(gguf: file, options: options)
            do { tokenizer = try Tokenizer(gguf: file.metadata) } catch let error as FormatError {
                throw FormatError("\(path.path): \(error.message)")
            }
            generationConfig = GenerationConfig(gguf: file.metadata)
            template = { try ChatTemplate.load(gguf: file.metadata) }
        }
        guard tokenizer.vocabularySize <= model.config.vocabSize else {
            throw EngineError("tokenizer has \(tokenizer.vocabularySize) tokens but the model only \(model.config.vocabSize)")
        }
        structuredOutput = StructuredOutput(tokenizer: tokenizer, vocabularySize: model.config.vocabSize)
        let family = BuiltInChatFormat.of(model.config.family)
        var builtIn: BuiltInChatFormat?
        do {
            if let template = try template() {
                chatTemplate = .success(template)
            } else if let family {
                builtIn = family
                chatTemplate = .success(try ChatTemplate(source: family.textTemplate))
            } else {
                chatTemplate = .failure(EngineError("the model has no chat template; give one with --chat-template FILE"))
            }
        } catch {
            chatTemplate = .failure(EngineError("the model's chat template cannot be used: \(error)"))
        }
        builtInChatFormat = builtIn
        var ends = Set(generationConfig.eosTokenIds).union(model.config.eosTokenIds)
        if let eos = tokenizer.eosTokenId { ends.insert(eos) }
        // A ChatML template ends every turn with <|im_end|>; models whose configs name another end
        // token (Yi-Chat: 2, its turn end is 7) would otherwise never stop.
        if let source = try? chatTemplate.get().source, source.contains(Self.chatMLTurnEnd), let id = tokenizer.id(of: Self.chatMLTurnEnd) {
            ends.insert(id)
        }
        // The tokens each family's own chat() stops on (ChatGLM3's next role, Qwen's ChatML markers).
        for token in family?.stopTokens ?? [] { if let id = tokenizer.id(of: token) { ends.insert(id) } }
        endTokenIds = ends
    }

    static let chatMLTurnEnd = "<|im_end|>"

    /// The chat prompt builder: the template from `overrideFile` if given, else the model's own.
    public func chatPrompt(overrideFile: String? = nil) throws -> ChatPrompt {
        if let overrideFile {
            let template = try ChatPrompt.template(file: overrideFile, specialTokensOf: try? chatTemplate.get(), tokenizer: tokenizer)
            return ChatPrompt(template: template, tokenizer: tokenizer)
        }
        return ChatPrompt(template: try chatTemplate.get(), tokenizer: tokenizer, builtIn: builtInChatFormat)
    }

    /// The folder's name, or the GGUF file's without its extension.
    public var name: String { path.pathExtension.lowercased() == "gguf" ? path.deletingPathExtension().lastPathComponent : path.lastPathComponent }
}
