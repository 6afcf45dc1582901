// Quantized models against the same model in f32: logits stay close and greedy runs mostly agree.
import Foundation
import Testing
import TernEngine
import TernModels

@Suite struct QuantizedModelTests {
    /// Stated tolerances on these tiny random models (whose logits are far more sensitive than a
    /// trained model's): max |Δlogit| relative to the logit range at the prompts' last positions, and the
    /// share of the reference greedy continuations whose every next token is still the argmax when the
    /// quantized model reads the same text (teacher-forced, so one flip does not derail the rest).
    static let limits: [(Quantization, logitError: Float, greedyAgreement: Double)] = [(.q8_0, 0.06, 0.85), (.q4_0, 0.3, 0.25)]

    static func logits(_ model: LanguageModel, _ tokens: [Int]) -> [[Float]] {
        let blocks = (0..<Int32((tokens.count + 15) / 16)).map { $0 }
        return model.forward(ForwardBatch([SequenceChunk(tokens: tokens, startPosition: 0, blockTable: blocks, logitRows: .allTokens)]),
                             cache: model.makeKVCache(blockSize: 16, blockCount: blocks.count)).rows
    }

    @Test(arguments: ["llama2-spm", "llama3-bpe", "qwen2-bpe", "mistral-window"])
    func quantizedLogitsStayNearF32(model name: String) throws {
        let reference = try Fixtures.reference(name)
        let full = try LoadedModel(path: Fixtures.model(name))
        for (quantization, logitError, greedyAgreement) in Self.limits {
            let quantized = try LoadedModel(path: Fixtures.model(name), options: LoadOptions(quantization: quantization))
            #expect(quantized.model.weightTypes.keys.contains(quantization == .q8_0 ? "Q8_0" : "Q4_0"))
            var agree = 0, total = 0
            for prompt in reference["prompts"]!.arrayValue! {
                let ids = prompt["ids"]!.ints, greedy = prompt["greedy"]!.ints
                let exact = Self.logits(full.model, ids).last!
                let approx = Self.logits(quantized.model, ids).last!
                let range = exact.max()! - exact.min()!
                let worst = zip(exact, approx).map { abs($0 - $1) }.max()!
                #expect(worst / range < logitError, "\(name) \(quantization): max |Δlogit| \(worst) of range \(range)")
                let rows = Self.logits(quantized.model, ids + greedy.dropLast())
                for (offset, expected) in greedy.enumerated() where Sampler.argmax(rows[ids.count - 1 + offset]) == expected {
                    agree += 1
                }
                total += greedy.count
            }
            let share = Double(agree) / Double(total)
            print("greedy agreement \(name) \(quantization.rawValue): \(agree)/\(total) = \(String(format: "%.2f", share))")
            #expect(share >= greedyAgreement, "\(name) \(quantization): \(agree)/\(total) greedy tokens agree")
        }
    }
}
