// KV cache memory split into fixed-size blocks; sequences address it through block tables.
import CTernKernels

public final class PagedKVCache: @unchecked Sendable {
    public let layers: Int
    public let blockSize: Int
    public let blockCount: Int
    public let kvHeads: Int
    public let headDim: Int
    /// Per layer: keys [blockCount][kvHeads][headDim][blockSize] floats (transposed within a block,
    /// so attention scores many positions in one vector), values [blockCount][blockSize][kvHeads][headDim].
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
        let block = Int(blockTable[position / blockSize]), slot = position % blockSize
        let keyBlock = keys[layer] + block * blockSize * kvDim
        for element in 0..<kvDim { keyBlock[element * blockSize + slot] = key[element] }
        (values[layer] + (block * blockSize + slot) * kvDim).update(from: value, count: kvDim)
    }

    /// One sequence's part of a batched attention: its block table and the positions of its chunk.
    public struct Chunk {
        public let blockTable: [Int32]
        public let startPosition: Int
        public let tokens: Int

        public init(blockTable: [Int32], startPosition: Int, tokens: Int) {
            self.blockTable = blockTable
            self.startPosition = startPosition
            self.tokens = tokens
        }
    }

    /// Attention of every chunk's queries (their rows consecutive in `queries` and `out`) over what
    /// the cache holds for its sequence up to each query (within `window` if given), in one dispatch.
    public func attend(layer: Int, chunks: [Chunk], queries: UnsafePointer<Float>, heads: Int, window: Int?, scale: Float,
                       alibiSlopes: [Float]? = nil, out: FloatPointer, compute: Compute) {
        let context = chunks.map { $0.startPosition + $0.tokens }.max() ?? 0
        let floats = tern_attention_scratch_floats(heads, kvHeads, context, Int32(compute.threads))
        let scores = compute.scratch(bytes: floats * MemoryLayout<Float>.size).assumingMemoryBound(to: Float.self)
        // Every chunk's block table, end to end in one buffer the kernel reads.
        chunks.flatMap(\.blockTable).withUnsafeBufferPointer { tables in
            var offset = 0
            let sequences = chunks.map { chunk in
                defer { offset += chunk.blockTable.count }
                return tern_attention_sequence(block_table: tables.baseAddress.map { $0 + offset }, start_pos: chunk.startPosition,
                                               tokens: chunk.tokens)
            }
            let run = { (slopes: UnsafePointer<Float>?) in
                tern_attention(compute.pool, queries, self.keys[layer], self.values[layer], sequences, sequences.count, self.blockSize,
                               window ?? 0, heads, self.kvHeads, self.headDim, scale, slopes, scores, out)
            }
            if let alibiSlopes { alibiSlopes.withUnsafeBufferPointer { run($0.baseAddress) } } else { run(nil) }
        }
    }
}
