// The tokenizer.ggml.* metadata that describes a folder's tokenizer.json in a GGUF file: byte-level
// BPE as llama.cpp's "gpt2" model, byte-fallback BPE (SentencePiece converted) as its "llama" model.
import Foundation
import TernFormats

extension Tokenizer {
    private static let splitRegexNames = [SplitRegex.qwen2: "qwen2", SplitRegex.llama3: "llama-bpe", SplitRegex.gpt2: "gpt-2"]

    /// `rows`: the model's embedding rows; llama.cpp wants one token per row, so padding tokens fill the rest.
    public static func ggufMetadata(directory: URL, rows: Int? = nil) throws -> [(String, GGUFEntry)] {
        let url = directory.appendingPathComponent("tokenizer.json")
        let tokenizer = try load(directory: directory)
        guard FileManager.default.fileExists(atPath: url.path) else {
            // Qwen's qwen.tiktoken is llama.cpp's "qwen2" byte-level BPE; a tokenizer.model is its "llama" model.
            if FileManager.default.fileExists(atPath: directory.appendingPathComponent("qwen.tiktoken").path) {
                return try tokenizer.ggufMetadata(kind: .byteLevel(pre: "qwen2"), rows: rows)
            }
            let model = try SentencePieceModel(path: directory.appendingPathComponent("tokenizer.model").path)
            return try tokenizer.ggufMetadata(kind: .sentencePiece(addSpacePrefix: model.addDummyPrefix), rows: rows)
        }
        let json = try JSONParser.parse(contentsOf: url)
        do {
            return try tokenizer.ggufMetadata(kind: try ggufKind(json), rows: rows)
        } catch let error as FormatError {
            throw FormatError("\(url.path): \(error.message)")
        }
    }

    private enum GGUFKind { case byteLevel(pre: String), sentencePiece(addSpacePrefix: Bool) }

    /// Which llama.cpp tokenizer reproduces this pipeline, or an error naming the stage it cannot.
    private static func ggufKind(_ json: JSONValue) throws -> GGUFKind {
        let normalizer = json["normalizer"], pre = json["pre_tokenizer"]
        func types(_ value: JSONValue?, _ listKey: String) -> [String] {
            guard let value, !value.isNull else { return [] }
            if let steps = value[listKey]?.arrayValue { return steps.compactMap { $0["type"]?.stringValue } }
            return [value["type"]?.stringValue ?? "?"]
        }
        let normalizers = types(normalizer, "normalizers"), preTokenizers = types(pre, "pretokenizers")
        if json["model"]?["byte_fallback"]?.boolValue == true {
            if normalizers == ["Prepend", "Replace"], preTokenizers.isEmpty { return .sentencePiece(addSpacePrefix: true) }
            if normalizers == ["Replace"], preTokenizers.isEmpty { return .sentencePiece(addSpacePrefix: false) }
            if normalizers.isEmpty, preTokenizers == ["Metaspace"] {
                let scheme = pre?["prepend_scheme"]?.stringValue ?? ((pre?["add_prefix_space"]?.boolValue ?? true) ? "always" : "never")
                return .sentencePiece(addSpacePrefix: scheme != "never")
            }
            throw FormatError("a byte-fallback tokenizer with normalizers \(normalizers) and pre-tokenizers \(preTokenizers) has no GGUF form")
        }
        // llama.cpp does not normalize byte-level vocabularies; NFC (Qwen2) changes only uncomposed text.
        guard normalizers.allSatisfy({ $0 == "NFC" }) else { throw FormatError("normalizers \(normalizers) have no GGUF form") }
        let steps = pre?["pretokenizers"]?.arrayValue ?? (pre.map { [$0] } ?? [])
        if preTokenizers == ["Split", "ByteLevel"], let pattern = steps[0]["pattern"]?["Regex"]?.stringValue,
           let name = splitRegexNames[pattern], steps[1]["use_regex"]?.boolValue != true {
            return .byteLevel(pre: name)
        }
        if preTokenizers == ["ByteLevel"], steps[0]["use_regex"]?.boolValue ?? true { return .byteLevel(pre: "gpt-2") }
        throw FormatError("pre-tokenizers \(preTokenizers) have no GGUF form (supported splits: Qwen2, LLaMA 3, GPT-2)")
    }

    private func ggufMetadata(kind: GGUFKind, rows: Int?) throws -> [(String, GGUFEntry)] {
        // GGUF token types: normal 1, unknown 2, control 3, user-defined 4, unused 5, byte 6.
        let count = max(rows ?? vocabularySize, vocabularySize)
        var tokens = model.tokens + [String](repeating: "", count: count - model.tokens.count)
        var types = [Int32](repeating: 1, count: count)
        for (id, text) in tokens.enumerated() where text.isEmpty {
            tokens[id] = "[PAD\(id)]"
            types[id] = 5
        }
        for token in addedTokens.tokens {
            tokens[token.id] = token.content
            types[token.id] = token.special ? 3 : 4
        }
        if let unknown = model.unknownId { types[unknown] = 2 }
        let ranked = model.merges.sorted { $0.value.priority < $1.value.priority }
        let merges = ranked.map { "\(tokens[Int($0.key >> 32)]) \(tokens[Int($0.key & 0xFFFF_FFFF)])" }
        var entries: [(String, GGUFEntry)] = []
        switch kind {
        case .byteLevel(let pre):
            entries += [("tokenizer.ggml.model", .string("gpt2")), ("tokenizer.ggml.pre", .string(pre))]
        case .sentencePiece(let addSpacePrefix):
            for id in model.byteTokenIds { types[id] = 6 }
            // llama.cpp merges by the merged token's score: rank order, earliest highest.
            var scores = [Float](repeating: -Float(ranked.count + 1), count: count)
            for (rank, merge) in ranked.enumerated().reversed() { scores[Int(merge.value.merged)] = -Float(rank) }
            entries += [("tokenizer.ggml.model", .string("llama")), ("tokenizer.ggml.pre", .string("default")),
                        ("tokenizer.ggml.add_space_prefix", .bool(addSpacePrefix)), ("tokenizer.ggml.scores", .float32s(scores))]
        }
        entries += [("tokenizer.ggml.tokens", .strings(tokens)), ("tokenizer.ggml.token_type", .int32s(types)),
                    ("tokenizer.ggml.merges", .strings(merges))]
        let bos = bosTokenId ?? prefixIds.first
        if let bos { entries.append(("tokenizer.ggml.bos_token_id", .uint32(UInt32(bos)))) }
        if let eos = eosTokenId { entries.append(("tokenizer.ggml.eos_token_id", .uint32(UInt32(eos)))) }
        if let unknown = model.unknownId { entries.append(("tokenizer.ggml.unknown_token_id", .uint32(UInt32(unknown)))) }
        entries.append(("tokenizer.ggml.add_bos_token", .bool(bos != nil && prefixIds == [bos!])))
        entries.append(("tokenizer.ggml.add_eos_token", .bool(!suffixIds.isEmpty)))
        return entries
    }
}
