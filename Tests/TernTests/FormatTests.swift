// Bad model files of every kind give a FormatError naming the problem, never a crash.
import Foundation
import Testing
@testable import TernFormats

@Suite struct SafetensorsTests {
    /// Writes a safetensors file from a header object and a data blob.
    static func write(header: String, data: [UInt8], headerLength: UInt64? = nil) throws -> String {
        let url = try Fixtures.temporaryDirectory().appendingPathComponent("model.safetensors")
        var bytes = withUnsafeBytes(of: (headerLength ?? UInt64(header.utf8.count)).littleEndian) { Array($0) }
        bytes += Array(header.utf8) + data
        try Data(bytes).write(to: url)
        return url.path
    }

    static func expectError(_ path: String, containing text: String) {
        do {
            _ = try SafetensorsFile(path: path)
            Issue.record("expected an error containing '\(text)'")
        } catch let error as FormatError {
            #expect(error.message.contains(text), "\(error.message)")
        } catch {
            Issue.record("unexpected error type \(error)")
        }
    }

    @Test func readsAValidFile() throws {
        let path = try Self.write(header: #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"__metadata__":{"format":"pt"}}"#,
                                  data: [0, 0, 0x80, 0x3F, 0, 0, 0, 0x40])
        let file = try SafetensorsFile(path: path)
        let a = try #require(file.tensors["a"])
        #expect(a.shape == [2] && a.dtype == .f32)
        #expect(a.data.loadUnaligned(fromByteOffset: 4, as: Float.self) == 2)
        #expect(file.metadata["format"] == "pt")
    }

    @Test func truncatedDataIsAnError() throws {
        let path = try Self.write(header: #"{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#, data: [0, 0, 0, 0])
        Self.expectError(path, containing: "outside the file")
    }

    @Test func headerLongerThanFileIsAnError() throws {
        let path = try Self.write(header: "{}", data: [], headerLength: 1 << 40)
        Self.expectError(path, containing: "does not fit")
    }

    @Test func tinyFileIsAnError() throws {
        let url = try Fixtures.temporaryDirectory().appendingPathComponent("x.safetensors")
        try Data([1, 2, 3]).write(to: url)
        Self.expectError(url.path, containing: "too short")
    }

    @Test func badHeaderJSONIsAnError() throws {
        let path = try Self.write(header: #"{"a":{"dtype":"F32""#, data: [])
        Self.expectError(path, containing: "bad header")
    }

    @Test func wrongSizeForShapeIsAnError() throws {
        let path = try Self.write(header: #"{"a":{"dtype":"F16","shape":[3],"data_offsets":[0,8]}}"#, data: Array(repeating: 0, count: 8))
        Self.expectError(path, containing: "needs 6")
    }

    @Test func overlappingTensorsAreAnError() throws {
        let path = try Self.write(header: #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#,
                                  data: Array(repeating: 0, count: 12))
        Self.expectError(path, containing: "overlap")
    }

    @Test func unknownDTypeIsAnError() throws {
        let path = try Self.write(header: #"{"a":{"dtype":"F8_E4M3","shape":[2],"data_offsets":[0,2]}}"#, data: [0, 0])
        Self.expectError(path, containing: "unsupported dtype F8_E4M3")
    }

    @Test func realCheckpointCutShortIsAnError() throws {
        let source = Fixtures.model("llama3-bpe")
        let copy = try Fixtures.temporaryDirectory()
        for file in ["config.json", "tokenizer.json", "tokenizer_config.json"] {
            try FileManager.default.copyItem(at: source.appendingPathComponent(file), to: copy.appendingPathComponent(file))
        }
        let data = try Data(contentsOf: source.appendingPathComponent("model.safetensors"))
        try data.prefix(data.count / 2).write(to: copy.appendingPathComponent("model.safetensors"))
        #expect(throws: FormatError.self) { try CheckpointFolder(directory: copy) }
    }

    @Test func shardedCheckpointLoadsEveryShard() throws {
        let checkpoint = try CheckpointFolder(directory: Fixtures.model("llama2-spm"))
        #expect(checkpoint.shards.count > 1)
        #expect(checkpoint.tensors["lm_head.weight"] != nil && checkpoint.tensors["model.embed_tokens.weight"] != nil)
    }

    @Test func missingShardIsAnError() throws {
        let copy = try Fixtures.temporaryDirectory()
        try FileManager.default.copyItem(at: Fixtures.model("llama2-spm").appendingPathComponent("model.safetensors.index.json"),
                                         to: copy.appendingPathComponent("model.safetensors.index.json"))
        #expect(throws: FormatError.self) { try CheckpointFolder(directory: copy) }
    }
}

@Suite struct ConfigTests {
    @Test func readsQwen2AndLlama3Configs() throws {
        let qwen = try ModelConfig.load(directory: Fixtures.model("qwen2-bpe"))
        #expect(qwen.architecture == "Qwen2ForCausalLM" && qwen.qkvBias && !qwen.outputBias)
        #expect(qwen.numKeyValueHeads == 2 && qwen.headDim == 16 && qwen.tieWordEmbeddings)
        let llama3 = try ModelConfig.load(directory: Fixtures.model("llama3-bpe"))
        #expect(llama3.ropeScaling.kind == .llama3 && llama3.ropeScaling.factor == 8 && llama3.ropeTheta == 500000)
        let mistral = try ModelConfig.load(directory: Fixtures.model("mistral-window"))
        #expect(mistral.slidingWindow == 4 && mistral.ropeScaling.kind == .linear)
    }

    @Test func readsTheOlderRopeScalingKeys() throws {
        let json = try JSONParser.parse(#"""
        {"architectures":["LlamaForCausalLM"],"vocab_size":10,"hidden_size":8,"intermediate_size":16,
         "num_hidden_layers":1,"num_attention_heads":2,"rope_theta":10000.0,"max_position_embeddings":4096,
         "rope_scaling":{"type":"linear","factor":4.0},"sliding_window":8192,"eos_token_id":[1,2]}
        """#)
        let config = try ModelConfig(json: json)
        #expect(config.ropeScaling.kind == .linear && config.ropeScaling.factor == 4)
        #expect(config.slidingWindow == nil, "a window longer than the context is dropped")
        #expect(config.eosTokenIds == [1, 2] && config.numKeyValueHeads == 2)
    }

    @Test func unsupportedArchitectureIsNamed() throws {
        let json = try JSONParser.parse(#"{"architectures":["GPT2LMHeadModel"],"vocab_size":10}"#)
        let error = #expect(throws: FormatError.self) { try ModelConfig(json: json) }
        #expect(error?.message.hasPrefix("unsupported architecture GPT2LMHeadModel; supported: LlamaForCausalLM, Qwen2ForCausalLM") == true)
        #expect(error?.message.contains("ChatGLMModel") == true && error?.message.contains("QWenLMHeadModel") == true)
    }

    @Test func badConfigValuesAreErrors() throws {
        let missing = try JSONParser.parse(#"{"architectures":["LlamaForCausalLM"],"vocab_size":10}"#)
        #expect(throws: FormatError.self) { try ModelConfig(json: missing) }
        let gqa = try JSONParser.parse(#"{"architectures":["LlamaForCausalLM"],"vocab_size":10,"hidden_size":8,"intermediate_size":16,"num_hidden_layers":1,"num_attention_heads":3,"num_key_value_heads":2}"#)
        #expect(throws: FormatError.self) { try ModelConfig(json: gqa) }
    }
}

@Suite struct JSONParserTests {
    @Test func parsesScalarsEscapesAndOrder() throws {
        let value = try JSONParser.parse(#"{"b":1,"a":[true,false,null,-2.5e1,"x\u00e9\ud83e\udd99\n"],"c":{}}"#)
        #expect(value.objectValue?.keys == ["b", "a", "c"])
        #expect(value["b"] == .int(1))
        #expect(value["a"]?.arrayValue == [.bool(true), .bool(false), .null, .double(-25), .string("xé🦙\n")])
    }

    @Test(arguments: ["", "{", "[1,]", "{\"a\" 1}", "\"abc", "tru", "[1] 2", "{\"a\":\"\\q\"}", String(repeating: "[", count: 1000)])
    func rejectsMalformedInput(text: String) {
        #expect(throws: FormatError.self) { try JSONParser.parse(text) }
    }
}
