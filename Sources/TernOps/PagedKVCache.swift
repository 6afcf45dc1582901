// KV cache memory split into fixed-size blocks; sequences address it through block tables.
import CTernKernels

public final class PagedKVCache: @unchecked Sendable {
    public let layers: Int
    public let blockSize: Int
    public let blockCount: Int
    public let kvHeads: Int
    public let headDim: Int
    /// Per layer: [blockCount][blockSize][kvHeads][headDim] floats for keys, the same for values.
    private let keys: [FloatPointer]
    private let values: [FloatPointer]

    public init(layers: Int, blockSize: Int, blockCount: Int, kvHeads: Int, headDim: Int) {
        self.layers = layers
        self.blockSize = blockSize
        self.blockCount = blockCount
        self.kvHeads = kvHeads
        self.headDim = headDim
        let perLayer = blockCount * blockSize * kvHeads * headDim
        keys = (0..<layers).map { _ in FloatPointer.allocate(capacity: perLayer) }
        values = (0..<layers).map { _ in FloatPointer.allocate(capacity: perLayer) }
    }

    deinit {
        keys.forEach { $0.deallocate() }
        values.forEach { $0.deallocate() }
    }

    public var kvDim: Int { kvHeads * headDim }

    public static func bytesPerBlock(layers: Int, blockSize: Int, kvHeads: Int, headDim: Int) -> Int {
        2 * layers * blockSize * kvHeads * headDim * MemoryLayout<Float>.size
    }

    /// Writes one token's keys and values (kvDim floats each) at `position` of a sequence.
    public func store(layer: Int, blockTable: [Int32], position: Int, key: UnsafePointer<Float>, value: UnsafePointer<Float>) {
        let slot = Int(blockTable[position / blockSize]) * blockSize + position % blockSize
        (keys[layer] + slot * kvDim).update(from: key, count: kvDim)
        (values[layer] + slot * kvDim).update(from: value, count: kvDim)
    }

    /// Attention of a chunk of `tokens` queries of one sequence, at positions startPosition...,
    /// over everything the cache holds for it up to each query (within `window` if given).
    public func attend(layer: Int, blockTable: [Int32], queries: UnsafePointer<Float>, tokens: Int, startPosition: Int,
                       heads: Int, window: Int?, scale: Float, out: FloatPointer, compute: Compute) {
        let scores = compute.scratch(bytes: compute.threads * (startPosition + tokens) * MemoryLayout<Float>.size)
        blockTable.withUnsafeBufferPointer { table in
            tern_attention(compute.pool, queries, keys[layer], values[layer], table.baseAddress, blockSize, startPosition, tokens,
                           window ?? 0, heads, kvHeads, headDim, scale, scores.assumingMemoryBound(to: Float.self), out)
        }
    }
}
