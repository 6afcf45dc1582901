// A model folder loaded for serving: weights, tokenizer, generation defaults and end tokens.
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
    public let directory: URL
    public let model: LanguageModel
    public let tokenizer: Tokenizer
    public let generationConfig: GenerationConfig
    /// Tokens that end a sequence unless the request ignores EOS.
    public let endTokenIds: Set<Int>
    /// The model's own chat template, or why chat requests cannot be served without one given.
    public let chatTemplate: Result<ChatTemplate, EngineError>

    public init(directory: URL, options: LoadOptions = LoadOptions()) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw EngineError("model folder \(directory.path) does not exist")
        }
        self.directory = directory
        model = try ModelRegistry.load(directory: directory, options: options)
        tokenizer = try Tokenizer.load(directory: directory)
        generationConfig = try GenerationConfig.load(directory: directory)
        guard tokenizer.vocabularySize <= model.config.vocabSize else {
            throw EngineError("tokenizer has \(tokenizer.vocabularySize) tokens but the model only \(model.config.vocabSize)")
        }
        var ends = Set(generationConfig.eosTokenIds).union(model.config.eosTokenIds)
        if let eos = tokenizer.eosTokenId { ends.insert(eos) }
        endTokenIds = ends
        do {
            if let template = try ChatTemplate.load(directory: directory) {
                chatTemplate = .success(template)
            } else {
                chatTemplate = .failure(EngineError("the model has no chat template; give one with --chat-template FILE"))
            }
        } catch {
            chatTemplate = .failure(EngineError("the model's chat template cannot be used: \(error)"))
        }
    }

    /// The chat prompt builder: the template from `overrideFile` if given, else the model's own.
    public func chatPrompt(overrideFile: String? = nil) throws -> ChatPrompt {
        if let overrideFile {
            let template = try ChatPrompt.template(file: overrideFile, specialTokensOf: try? chatTemplate.get(), tokenizer: tokenizer)
            return ChatPrompt(template: template, tokenizer: tokenizer)
        }
        return ChatPrompt(template: try chatTemplate.get(), tokenizer: tokenizer)
    }

    public var name: String { directory.lastPathComponent }
}
