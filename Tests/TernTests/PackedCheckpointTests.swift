// GPTQ and AWQ checkpoints (packed by scripts/make_packed_fixtures.py from the formats'
// descriptions) against the same model dequantized: every weight comes back exact, the logits
// agree within what 8-bit activations cost, and broken checkpoints are clear errors.
import Foundation
import Testing
import TernFormats
@testable import TernModels
import TernOps

@Suite struct PackedCheckpointTests {
    static func folder(_ name: String) -> URL { Fixtures.root.appendingPathComponent("packed/\(name)") }

    /// Each variant: the block type its layers become, and whether they keep an input order.
    static let variants: [(name: String, type: WeightType, reordered: Bool)] = [
        ("gptq-int4", .q4_0, false), ("gptq-int4-asym-actorder", .q4_1, true), ("gptq-int8", .q8_0, false),
        ("gptq-int8-asym-actorder", .q8_0m, true), ("awq-int4", .q4_1, false),
    ]

    static let layers = [("self_attn.q_proj", 64, 64), ("self_attn.k_proj", 32, 64), ("self_attn.v_proj", 32, 64),
                         ("self_attn.o_proj", 64, 64), ("mlp.gate_proj", 160, 64), ("mlp.up_proj", 160, 64), ("mlp.down_proj", 64, 160)]

    @Test(arguments: variants.map(\.name))
    func everyWeightComesBackExact(variant name: String) throws {
        let expected = Self.variants.first { $0.name == name }!
        let directory = Self.folder(name)
        let packing = try #require(try PackedQuantization.load(directory: directory))
        let loader = WeightLoader(checkpoint: try CheckpointWeights(directory: directory), config: try ModelConfig.load(directory: directory),
                                  options: LoadOptions(), compute: Compute(threads: 2), packing: packing)
        let reference = try CheckpointFolder(directory: Self.folder("\(name)-dequantized"))
        for layer in 0..<2 {
            for (part, outputs, inputs) in Self.layers {
                let tensor = "model.layers.\(layer).\(part).weight"
                let matrix = try loader.linearRows(tensor, shape: [outputs, inputs])
                #expect(matrix.type == expected.type, "\(name) \(tensor): \(matrix.type)")
                // A layer whose inputs all form one group needs no order.
                let reordered = expected.reordered && inputs > packing.groupSize ?? inputs
                #expect((matrix.inputOrder != nil) == reordered, "\(name) \(tensor): input order")
                let plain = try WeightMatrix(try reference.tensor(tensor), expectedShape: [outputs, inputs])
                var row = [Float](repeating: 0, count: inputs), want = row
                var mismatches = 0
                for o in 0..<outputs {
                    matrix.copyRow(o, to: &row)
                    plain.copyRow(o, to: &want)
                    let order = matrix.inputOrder.map { $0.map(Int.init) } ?? Array(0..<inputs)
                    mismatches += zip(order, row).filter { want[$0.0] != $0.1 }.count
                }
                #expect(mismatches == 0, "\(name) \(tensor): \(mismatches) weights differ from the dequantized reference")
            }
        }
    }

    @Test(arguments: variants.map(\.name))
    func logitsMatchTheDequantizedModel(variant name: String) throws {
        let packed = try ModelRegistry.load(directory: Self.folder(name), options: LoadOptions(threads: 2))
        let plain = try ModelRegistry.load(directory: Self.folder("\(name)-dequantized"), options: LoadOptions(threads: 2))
        let tokens = [5, 17, 300, 42, 999, 7, 64, 1200, 3, 88, 450, 12]
        let exact = QuantizedModelTests.logits(plain, tokens), approx = QuantizedModelTests.logits(packed, tokens)
        for (position, (want, got)) in zip(exact, approx).enumerated() {
            let range = want.max()! - want.min()!
            let worst = zip(want, got).map { abs($0 - $1) }.max()!
            // The same weights: only the 8-bit activations of the quantized kernels differ (Q8_0's bound).
            #expect(worst / range < 0.06, "\(name) position \(position): max |Δlogit| \(worst) of range \(range)")
        }
    }

    /// A copy of a variant with its quantization_config edited.
    static func edited(_ name: String, _ change: (inout JSONObject) -> Void) throws -> URL {
        let target = try Fixtures.temporaryDirectory().appendingPathComponent(name)
        try FileManager.default.copyItem(at: folder(name), to: target)
        let configURL = target.appendingPathComponent("config.json")
        var config = try JSONParser.parse(contentsOf: configURL).objectValue!
        var quantization = config["quantization_config"]!.objectValue!
        change(&quantization)
        config["quantization_config"] = .object(quantization)
        try Data(JSONValue.object(config).serialized.utf8).write(to: configURL)
        return target
    }

    @Test func brokenCheckpointsAreClearErrors() throws {
        let cases: [(String, (inout JSONObject) -> Void, String)] = [
            ("gptq-int4", { $0["quant_method"] = .string("bitsandbytes") }, "quantization method 'bitsandbytes' is not supported"),
            ("gptq-int4", { $0["group_size"] = .int(64) }, "qzeros has shape [2, 8], expected [1, 8]"),
            ("gptq-int4", { $0["bits"] = .int(8) }, "qweight has shape [8, 64], expected [16, 64]"),
            ("gptq-int4", { $0["bits"] = .int(3) }, "GPTQ with 3 bits is not supported"),
            ("awq-int4", { $0["version"] = .string("gemv") }, "AWQ version 'gemv' is not supported"),
            ("gptq-int4", { $0["group_size"] = .int(48) }, "group_size 48 is not supported"),
        ]
        for (name, change, message) in cases {
            let url = try Self.edited(name, change)
            do {
                _ = try ModelRegistry.load(directory: url)
                Issue.record("\(message): loaded")
            } catch {
                #expect("\(error)".contains(message), "\(error)")
            }
        }
        // Quantizing the packed layers again is refused, not silently ignored.
        do {
            _ = try ModelRegistry.load(directory: Self.folder("awq-int4"), options: LoadOptions(quantization: .q4_k))
            Issue.record("--quantization q4_k on AWQ: loaded")
        } catch {
            #expect("\(error)".contains("is already quantized (AWQ 4-bit, group 128); only --quantization q8_0 applies"), "\(error)")
        }
    }

    @Test func q8_0QuantizesOnlyTheFloatMatricesLeft() throws {
        let model = try ModelRegistry.load(directory: Self.folder("gptq-int4"), options: LoadOptions(quantization: .q8_0, threads: 2))
        // The layers stay Q4_0 as packed; the tied f16 embedding and LM head become Q8_0.
        #expect(Set(model.weightTypes.keys) == ["Q4_0", "Q8_0"], "\(model.weightTypes)")
    }
}
