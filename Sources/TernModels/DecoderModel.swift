// The pre-norm decoder every supported family shares: RMSNorm, grouped-query attention over a
// paged KV cache, SwiGLU MLP, tied or untied LM head. The families differ only in named
// variations read from the config: rotary on part of each head or ALiBi (PositionEncoding),
// Qwen's dynamic NTK and logn scaling (LongContextRules), Baichuan2's normalised head (at load);
// fused projections are cut apart at load (FamilyWeights), so the forward pass is one.
import Foundation
import TernFormats
import TernOps

struct LinearLayer {
    let weight: WeightMatrix
    let bias: [Float]?

    init(_ loader: WeightLoader, _ name: String, out: Int, in inFeatures: Int, bias hasBias: Bool) throws {
        weight = try loader.linear("\(name).weight", shape: [out, inFeatures])
        bias = hasBias ? try loadVector(try loader.checkpoint.tensor("\(name).bias"), length: out) : nil
    }

    func callAsFunction(_ x: UnsafePointer<Float>, tokens: Int, out: FloatPointer, compute: Compute) {
        Ops.linear(x, tokens: tokens, weight: weight, bias: bias, out: out, compute: compute)
    }

    /// This layer writing into `out`, for a product that shares its input with others.
    func product(_ out: FloatPointer) -> (weight: WeightMatrix, bias: [Float]?, out: FloatPointer) {
        (weight, bias, out)
    }
}

struct DecoderLayer {
    let inputNorm: [Float]
    let q, k, v, o: LinearLayer
    let postAttentionNorm: [Float]
    let gate, up, down: LinearLayer

    init(_ loader: WeightLoader, index: Int, config: ModelConfig) throws {
        let c = loader.checkpoint
        let p = "model.layers.\(index)"
        let h = config.hiddenSize, qDim = config.numAttentionHeads * config.headDim
        let kvDim = config.numKeyValueHeads * config.headDim, ff = config.intermediateSize
        inputNorm = try loadVector(try c.tensor("\(p).input_layernorm.weight"), length: h)
        q = try LinearLayer(loader, "\(p).self_attn.q_proj", out: qDim, in: h, bias: config.qkvBias)
        k = try LinearLayer(loader, "\(p).self_attn.k_proj", out: kvDim, in: h, bias: config.qkvBias)
        v = try LinearLayer(loader, "\(p).self_attn.v_proj", out: kvDim, in: h, bias: config.qkvBias)
        o = try LinearLayer(loader, "\(p).self_attn.o_proj", out: h, in: qDim, bias: config.outputBias)
        postAttentionNorm = try loadVector(try c.tensor("\(p).post_attention_layernorm.weight"), length: h)
        gate = try LinearLayer(loader, "\(p).mlp.gate_proj", out: ff, in: h, bias: config.mlpBias)
        up = try LinearLayer(loader, "\(p).mlp.up_proj", out: ff, in: h, bias: config.mlpBias)
        down = try LinearLayer(loader, "\(p).mlp.down_proj", out: h, in: ff, bias: config.mlpBias)
    }

    var matrices: [WeightMatrix] { [q, k, v, o, gate, up, down].map(\.weight) }
}

public final class DecoderModel: LanguageModel, @unchecked Sendable {
    public let config: ModelConfig
    let embedding: WeightMatrix
    let layers: [DecoderLayer]
    let finalNorm: [Float]
    let lmHead: WeightMatrix
    /// The LM head is the embedding matrix itself (tied weights).
    let lmHeadIsEmbedding: Bool
    /// Rotary frequencies by Qwen's NTK alpha (1 for every other family).
    private var rotaryByAlpha: [Double: RotaryEmbedding] = [:]
    /// One slope per query head under ALiBi.
    let alibiSlopes: [Float]?
    private let workspace: Workspace
    public let compute: Compute
    public let kvCacheType: KVCacheType
    /// The workspace is shared by all calls, so forward passes run one at a time.
    private let forwardLock = NSLock()

    init(config: ModelConfig, loader: WeightLoader, kvCacheType: KVCacheType) throws {
        self.config = config
        self.kvCacheType = kvCacheType
        compute = loader.compute
        let checkpoint = loader.checkpoint
        embedding = try loader.embedding("model.embed_tokens.weight", shape: [config.vocabSize, config.hiddenSize])
        layers = try (0..<config.numHiddenLayers).map { try DecoderLayer(loader, index: $0, config: config) }
        finalNorm = try loadVector(try checkpoint.tensor("model.norm.weight"), length: config.hiddenSize)
        lmHeadIsEmbedding = loader.lmHeadIsEmbedding
        if lmHeadIsEmbedding {
            lmHead = embedding
        } else {
            lmHead = try loader.embedding("lm_head.weight", shape: [config.vocabSize, config.hiddenSize])
        }
        alibiSlopes = config.positionEncoding == .alibi ? ALiBi.slopes(heads: config.numAttentionHeads) : nil
        workspace = Workspace(config: config)
    }

    public var weightBytes: Int {
        layers.flatMap(\.matrices).reduce(lmHead.byteCount) { $0 + $1.byteCount }
    }

    public var weightTypes: [String: Int] {
        var bytes: [String: Int] = [:]
        for matrix in layers.flatMap(\.matrices) + [lmHead] { bytes[matrix.type.name, default: 0] += matrix.byteCount }
        if !lmHeadIsEmbedding { bytes[embedding.type.name, default: 0] += embedding.byteCount }
        return bytes
    }

    public func forward(_ batch: ForwardBatch, cache: PagedKVCache) -> BatchLogits {
        forwardLock.lock()
        defer { forwardLock.unlock() }
        let n = batch.tokenCount
        let ws = workspace
        ws.reserve(tokens: n)
        let h = config.hiddenSize, eps = Float(config.rmsNormEps)
        let positions = batch.sequences.flatMap { s in (0..<s.tokens.count).map { s.startPosition + $0 } }
        let rotaries = batch.sequences.flatMap { s in Array(repeating: rotary(for: s), count: s.tokens.count) }

        for (t, token) in batch.sequences.flatMap(\.tokens).enumerated() {
            embedding.copyRow(token, to: ws.x + t * h)
        }
        for (index, layer) in layers.enumerated() {
            Ops.rmsNorm(ws.x, weight: layer.inputNorm, eps: eps, rows: n, out: ws.normed, compute: compute)
            attention(layer, index: index, batch: batch, positions: positions, rotaries: rotaries, cache: cache)
            Ops.addInPlace(ws.x, ws.attentionOut, count: n * h)
            Ops.rmsNorm(ws.x, weight: layer.postAttentionNorm, eps: eps, rows: n, out: ws.normed, compute: compute)
            Ops.linear(ws.normed, tokens: n, [layer.gate.product(ws.gate), layer.up.product(ws.up)], compute: compute)
            Ops.siluMul(gate: ws.gate, up: ws.up, count: n * config.intermediateSize, compute: compute)
            layer.down(ws.gate, tokens: n, out: ws.attentionOut, compute: compute)
            Ops.addInPlace(ws.x, ws.attentionOut, count: n * h)
        }
        return logits(batch)
    }

    /// The rotary frequencies of a sequence: Qwen's NTK alpha follows the length of its prompt.
    private func rotary(for sequence: SequenceChunk) -> RotaryEmbedding? {
        guard config.positionEncoding == .rotary else { return nil }
        let alpha = config.longContext?.ntkAlpha(promptLength: sequence.promptLength) ?? 1
        if let known = rotaryByAlpha[alpha] { return known }
        // Qwen's rule: base · alpha^(d / (d - 2)) over the rotary dimensions d.
        let d = Double(config.rotaryDimensions)
        let made = RotaryEmbedding(headDim: config.rotaryDimensions, theta: config.ropeTheta * pow(alpha, d / (d - 2)), scaling: config.ropeScaling)
        rotaryByAlpha[alpha] = made
        return made
    }

    private func attention(_ layer: DecoderLayer, index: Int, batch: ForwardBatch, positions: [Int], rotaries: [RotaryEmbedding?], cache: PagedKVCache) {
        let ws = workspace, n = positions.count
        let heads = config.numAttentionHeads, kvHeads = config.numKeyValueHeads, d = config.headDim, r = config.rotaryDimensions
        let qDim = heads * d, kvDim = kvHeads * d
        Ops.linear(ws.normed, tokens: n, [layer.q.product(ws.q), layer.k.product(ws.k), layer.v.product(ws.v)], compute: compute)
        for (t, position) in positions.enumerated() {
            if let rotary = rotaries[t] {
                rotary.angles(position: position, cos: ws.cos, sin: ws.sin)
                Ops.rope(ws.q + t * qDim, heads: heads, headDim: d, rotaryDimensions: r, cos: ws.cos, sin: ws.sin)
                Ops.rope(ws.k + t * kvDim, heads: kvHeads, headDim: d, rotaryDimensions: r, cos: ws.cos, sin: ws.sin)
            }
            // Qwen's logn attention scales queries past the trained length (after the rotation).
            if let factor = config.longContext?.queryScale(position: position), factor != 1 {
                Ops.scale(ws.q + t * qDim, count: qDim, by: factor)
            }
        }
        let scale = 1 / Float(d).squareRoot()
        var t = 0
        for sequence in batch.sequences {
            // All of a chunk's keys go in first, so each token then sees its predecessors.
            for i in 0..<sequence.tokens.count {
                cache.store(layer: index, blockTable: sequence.blockTable, position: sequence.startPosition + i,
                            key: ws.k + (t + i) * kvDim, value: ws.v + (t + i) * kvDim)
            }
            t += sequence.tokens.count
        }
        let chunks = batch.sequences.map { PagedKVCache.Chunk(blockTable: $0.blockTable, startPosition: $0.startPosition, tokens: $0.tokens.count) }
        cache.attend(layer: index, chunks: chunks, queries: ws.q, heads: heads, window: config.slidingWindow, scale: scale,
                     alibiSlopes: alibiSlopes, out: ws.attention, compute: compute)
        layer.o(ws.attention, tokens: n, out: ws.attentionOut, compute: compute)
    }

    /// Final norm and LM head over just the rows some sequence asked logits for.
    private func logits(_ batch: ForwardBatch) -> BatchLogits {
        let ws = workspace, h = config.hiddenSize, vocab = config.vocabSize
        var selected: [Int] = []
        var ranges: [Range<Int>] = []
        var t = 0
        for sequence in batch.sequences {
            let count = sequence.tokens.count
            let wanted: Range<Int>
            switch sequence.logitRows {
            case .none: wanted = 0..<0
            case .lastToken: wanted = (count - 1)..<count
            case .allTokens: wanted = 0..<count
            }
            ranges.append(selected.count..<(selected.count + wanted.count))
            selected += wanted.map { t + $0 }
            t += count
        }
        for (row, token) in selected.enumerated() {
            Ops.rmsNorm(ws.x + token * h, weight: finalNorm, eps: Float(config.rmsNormEps), rows: 1, out: ws.normed + row * h, compute: compute)
        }
        var flat = [Float](repeating: 0, count: selected.count * vocab)
        flat.withUnsafeMutableBufferPointer {
            Ops.linear(ws.normed, tokens: selected.count, weight: lmHead, bias: nil, out: $0.baseAddress!, compute: compute)
        }
        let rows = (0..<selected.count).map { Array(flat[($0 * vocab)..<(($0 + 1) * vocab)]) }
        return BatchLogits(vocabSize: vocab, rows: rows, rowRanges: ranges)
    }
}
