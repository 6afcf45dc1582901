// Sampling and length flags shared by `tern run` and `tern chat`.
import ArgumentParser
import TernEngine

struct SamplingOptions: ParsableArguments {
    @Option(name: .customLong("max-tokens"), help: "Tokens to generate at most.") var maxTokens: Int?
    @Option(help: "Sampling temperature; 0 is greedy.") var temperature: Double?
    @Option(name: .customLong("top-p")) var topP: Double?
    @Option(name: .customLong("top-k")) var topK: Int?
    @Option(name: .customLong("min-p")) var minP: Double?
    @Option(name: .customLong("repetition-penalty")) var repetitionPenalty: Double?
    @Option(help: "Seed for reproducible sampling.") var seed: UInt64?
    @Option(help: "Stop string (repeatable).") var stop: [String] = []
    @Flag(name: .customLong("ignore-eos"), help: "Keep generating past end-of-sequence tokens.") var ignoreEOS = false
    @Option(name: .customLong("max-model-len"), help: "Context length (default: the model's, at most 4096).") var maxModelLength: Int?

    func validate() throws {
        if let maxTokens, maxTokens <= 0 { throw ValidationError("--max-tokens must be at least 1") }
        if let temperature, temperature < 0 { throw ValidationError("--temperature must not be negative") }
        if let topP, !(topP > 0 && topP <= 1) { throw ValidationError("--top-p must be in (0, 1]") }
        if let minP, !(0...1).contains(minP) { throw ValidationError("--min-p must be in [0, 1]") }
        if let maxModelLength, maxModelLength < 2 { throw ValidationError("--max-model-len must be at least 2") }
    }

    /// The request's settings, falling back to the model's generation_config.json defaults.
    func parameters(_ loaded: LoadedModel, defaultMaxTokens: Int) -> SamplingParameters {
        let defaults = loaded.generationConfig
        var p = SamplingParameters()
        p.temperature = temperature ?? defaults.temperature ?? 1
        p.topP = topP ?? defaults.topP ?? 1
        p.topK = topK ?? defaults.topK ?? 0
        p.minP = minP ?? 0
        p.repetitionPenalty = repetitionPenalty ?? defaults.repetitionPenalty ?? 1
        p.seed = seed
        p.maxTokens = maxTokens ?? defaultMaxTokens
        p.stop = stop
        p.ignoreEOS = ignoreEOS
        return p
    }

    func generator(_ loaded: LoadedModel) -> Generator {
        Generator(loaded: loaded, maxModelLength: maxModelLength ?? min(loaded.model.config.maxPositionEmbeddings, 4096))
    }
}
