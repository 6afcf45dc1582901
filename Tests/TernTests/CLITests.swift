// The built `tern` binary: `run --json` reproduces transformers' greedy text; errors are one line.
import Foundation
import Testing
import TernFormats

@Suite struct CLITests {
    /// The `tern` executable beside this test bundle in the build folder.
    static let binary: URL = {
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        if directory.lastPathComponent == "MacOS" { directory = directory.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent() }
        return directory.appendingPathComponent("tern")
    }()

    static func run(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
    }

    @Test(arguments: Fixtures.modelNames)
    func runJSONReproducesGreedyReference(model: String) throws {
        let prompt = try Fixtures.reference(model)["prompts"]!.arrayValue![0]
        let ids = prompt["ids"]!.ints.map(String.init).joined(separator: ",")
        let result = try Self.run(["run", "--model", Fixtures.model(model).path, "--prompt-ids", ids,
                                   "--max-tokens", "32", "--temperature", "0", "--ignore-eos", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let output = try JSONParser.parse(result.stdout)
        #expect(output["tokens"]!.ints == prompt["greedy"]!.ints)
        #expect(output["prompt_tokens"]!.ints == prompt["ids"]!.ints)
        #expect(output["finish_reason"]?.stringValue == "length")
    }

    @Test func runWithTextPromptTokenizesLikeTransformers() throws {
        let prompt = try Fixtures.reference("llama2-spm")["prompts"]!.arrayValue![1]
        let result = try Self.run(["run", "--model", Fixtures.model("llama2-spm").path, "--prompt", prompt["text"]!.stringValue!,
                                   "--max-tokens", "32", "--temperature", "0", "--ignore-eos", "--json"])
        let output = try JSONParser.parse(result.stdout)
        #expect(output["prompt_tokens"]!.ints == prompt["ids"]!.ints)
        #expect(output["tokens"]!.ints == prompt["greedy"]!.ints)
    }

    @Test func infoDescribesTheModel() throws {
        let result = try Self.run(["info", "--model", Fixtures.model("qwen2-bf16").path])
        #expect(result.status == 0)
        #expect(result.stdout.contains("Qwen2ForCausalLM") && result.stdout.contains("BF16") && result.stdout.contains("2 KV heads"))
    }

    @Test func infoShowsAPackedCheckpointsScheme() throws {
        // The packed fixture with its base model's tokenizer, as a downloaded GPTQ folder has one.
        let folder = try Fixtures.temporaryDirectory().appendingPathComponent("gptq")
        try FileManager.default.copyItem(at: PackedCheckpointTests.folder("gptq-int4-asym-actorder"), to: folder)
        for file in ["tokenizer.json", "tokenizer_config.json", "generation_config.json"] {
            try FileManager.default.copyItem(at: Fixtures.model("qwen2-bpe").appendingPathComponent(file), to: folder.appendingPathComponent(file))
        }
        let result = try Self.run(["info", "--model", folder.path])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("quantization:   GPTQ 4-bit, group 32, asymmetric, act-order") && result.stdout.contains("Q4_1"))
        let quantize = try Self.run(["quantize", "--model", folder.path, "--type", "q8_0", "--output", folder.appendingPathComponent("x.gguf").path])
        #expect(quantize.status != 0 && quantize.stderr.contains("is already quantized (GPTQ 4-bit"), "\(quantize.stderr)")
    }

    /// `tern tokenize` on llama.cpp's vocab-only GGUF files gives llama.cpp's test-vector ids, and
    /// `tern detokenize` turns them back into the text.
    @Test(arguments: ["llama-spm", "llama-bpe", "gpt-2"])
    func tokenizeAndDetokenizeAVocabularyFile(vocab: String) throws {
        let file = Fixtures.vocab.appendingPathComponent("ggml-vocab-\(vocab).gguf").path
        for (text, expected) in try GGUFVocabularyTests.vectors("ggml-vocab-\(vocab)").prefix(6) where !expected.isEmpty {
            let result = try Self.run(["tokenize", "--model", file, "--text", text, "--no-special-tokens", "--json"])
            #expect(result.status == 0, "\(result.stderr)")
            let output = try JSONParser.parse(result.stdout)
            #expect(output["ids"]!.ints == expected, "\(vocab): \(text.debugDescription)")
            #expect(output["pieces"]!.arrayValue!.count == expected.count)
            let back = try Self.run(["detokenize", "--model", file, "--ids", expected.map(String.init).joined(separator: ",")])
            #expect(back.stdout.dropLast() == text || vocab == "llama-spm", "\(vocab): \(text.debugDescription) -> \(back.stdout.debugDescription)")
        }
        let bad = try Self.run(["detokenize", "--model", file, "--ids", "1,99999999"])
        #expect(bad.status != 0 && bad.stderr.contains("is not a token id"))
    }

    @Test func errorsAreOneClearLine() throws {
        let empty = try Fixtures.temporaryDirectory()
        let cases: [([String], String)] = [
            (["run", "--model", "/nonexistent/model", "--prompt", "hi"], "does not exist"),
            (["run", "--model", empty.path, "--prompt", "hi"], "no config.json"),
            (["info", "--model", empty.path], "no config.json"),
            (["run", "--model", Fixtures.model("qwen2-bpe").path, "--prompt-ids", "1,x"], "comma-separated"),
        ]
        for (arguments, message) in cases {
            let result = try Self.run(arguments)
            #expect(result.status != 0)
            #expect(result.stderr.contains(message), "\(arguments): \(result.stderr)")
            #expect(result.stderr.split(separator: "\n").count <= 3, "no stack trace: \(result.stderr)")
        }
    }

    @Test func corruptWeightsAreAnErrorNotACrash() throws {
        let copy = try Fixtures.temporaryDirectory()
        let source = Fixtures.model("qwen2-bpe")
        for file in try FileManager.default.contentsOfDirectory(atPath: source.path) {
            try FileManager.default.copyItem(at: source.appendingPathComponent(file), to: copy.appendingPathComponent(file))
        }
        let weights = copy.appendingPathComponent("model.safetensors")
        let data = try Data(contentsOf: weights)
        try data.prefix(data.count - 1000).write(to: weights)
        let result = try Self.run(["run", "--model", copy.path, "--prompt", "hi"])
        #expect(result.status == 1)
        #expect(result.stderr.hasPrefix("error: ") && result.stderr.contains("truncated"), "\(result.stderr)")
    }

    /// `tern bench --json` reports load time and resident memory, decodes after `--depth` tokens of
    /// context in the KV cache type asked for; `tern estimate` sizes that type's cache exactly.
    @Test func benchReportsMemoryAndDecodesAtDepthInTheChosenKVType() throws {
        let model = Fixtures.model("qwen2-bpe").path
        let bench = try Self.run(["bench", "--model", model, "--prompt-tokens", "8", "--gen-tokens", "4", "--depth", "40", "--repeats", "1",
                                  "--threads", "1", "--kv-cache-dtype", "q8_0", "--json"])
        #expect(bench.status == 0, "\(bench.stderr)")
        let report = try JSONParser.parse(bench.stdout)
        #expect(report["kv_cache_dtype"]?.stringValue == "q8_0" && report["depth"]?.intValue == 40)
        let resident = report["rss_after_load_bytes"]!.intValue!, peak = report["peak_rss_bytes"]!.intValue!
        #expect(resident > 0 && peak >= resident && report["load_seconds"]!.doubleValue! > 0, "\(bench.stdout)")
        #expect(report["decode_tokens_per_s"]!.doubleValue! > 0)

        let config = try ModelConfig.load(directory: Fixtures.model("qwen2-bpe"))
        for (type, bytes) in [("bf16", 2), ("f32", 4)] {
            let estimate = try Self.run(["estimate", "--model", model, "--kv-cache-dtype", type, "--json"])
            #expect(estimate.status == 0, "\(estimate.stderr)")
            let plan = try JSONParser.parse(estimate.stdout)
            let expected = 2 * config.numHiddenLayers * config.numKeyValueHeads * config.headDim * bytes
            #expect(plan["kv_cache_dtype"]?.stringValue == type && plan["kv_bytes_per_token"]?.intValue == expected, "\(estimate.stdout)")
        }
        let unknown = try Self.run(["estimate", "--model", model, "--kv-cache-dtype", "fp7"])
        #expect(unknown.status != 0 && unknown.stderr.contains("fp7") && unknown.stderr.contains("auto, f32, f16, bf16, q8_0"), "\(unknown.stderr)")
    }
}
