// Building a Tokenizer from SentencePiece's tokenizer.model (LLaMA 1/2, Yi, Baichuan2 ship only
// that): its BPE vocabulary read as llama.cpp reads it, the BOS choice from tokenizer_config.json.
import TernFormats

extension Tokenizer {
    public convenience init(sentencePiece path: String, config: JSONValue?) throws {
        let model = try SentencePieceModel(path: path)
        try Self.checkSupported(model, path: path)
        do {
            try self.init(gguf: model.ggufMetadata(addBOS: config?["add_bos_token"]?.boolValue ?? true))
        } catch let error as FormatError {
            throw FormatError("\(path): \(error.message)")
        }
    }
}
