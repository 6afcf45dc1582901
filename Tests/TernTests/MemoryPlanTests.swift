// `tern estimate`'s arithmetic against what loading the model really allocates for weights, the
// configuration-only estimate against the checkpoint's, and the cgroup limit read as a container sets it.
import Foundation
import Testing
import TernEngine
import TernModels

@Suite struct MemoryPlanTests {
    @Test(arguments: [("llama3-f16", Quantization.none, KVCacheSetting.standard), ("llama3-f16", .q8_0, .type(.q8_0)),
                      ("qwen2-bf16", .none, .auto), ("llama2-spm", .q4_0, .type(.f32))])
    func weightEstimateMatchesWhatLoadingAllocates(model name: String, quantization: Quantization, kvCache: KVCacheSetting) throws {
        let folder = Fixtures.model(name)
        let plan = try MemoryPlan.of(path: folder, quantization: quantization, kvCache: kvCache, contextTokens: 256, sequences: 2, batchTokens: 64)
        let loaded = try LoadedModel(path: folder, options: LoadOptions(quantization: quantization, kvCache: kvCache))
        let matrices = loaded.model.weightTypes.values.reduce(0, +)
        // The plan also counts norms and biases, which loading keeps as small f32 vectors.
        #expect(plan.weightBytes >= matrices && Double(plan.weightBytes) <= Double(matrices) * 1.03, "\(name) \(quantization): \(plan.weightBytes) vs \(matrices)")
        #expect(plan.kvBytesPerToken == loaded.model.kvBytesPerToken && plan.kvCacheType == loaded.model.kvCacheType)
        #expect(plan.kvBytes == 256 * 2 * loaded.model.kvBytesPerToken)
    }

    @Test func configAloneSizesAModelBeforeItsDownload() throws {
        let folder = try Fixtures.temporaryDirectory()
        try FileManager.default.copyItem(at: Fixtures.model("llama3-f16").appendingPathComponent("config.json"), to: folder.appendingPathComponent("config.json"))
        let estimate = try MemoryPlan.of(path: folder, quantization: .none, kvCache: .standard, contextTokens: 128, sequences: 1, batchTokens: 16)
        let real = try MemoryPlan.of(path: Fixtures.model("llama3-f16"), quantization: .none, kvCache: .standard, contextTokens: 128, sequences: 1, batchTokens: 16)
        #expect(abs(Double(estimate.weightBytes) / Double(real.weightBytes) - 1) < 0.05, "\(estimate.weightBytes) vs \(real.weightBytes)")
    }

    @Test func aContainersCgroupLimitIsTheUsableMemory() throws {
        let root = try Fixtures.temporaryDirectory()
        try "max\n".write(to: root.appendingPathComponent("memory.max"), atomically: true, encoding: .utf8)
        #expect(MemoryLimit.usable(cgroupRoot: root.path).bytes == Int(ProcessInfo.processInfo.physicalMemory))
        try "536870912\n".write(to: root.appendingPathComponent("memory.max"), atomically: true, encoding: .utf8)
        let limited = MemoryLimit.usable(cgroupRoot: root.path)
        #expect(limited.bytes == 536_870_912 && limited.source.contains("cgroup"))
    }
}
