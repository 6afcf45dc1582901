// KV cache memory split into fixed-size blocks; sequences address it through block tables.
import CTernKernels
import Glibc

public final class PagedKVCache: @unchecked Sendable {
    public let layers: Int
    public let blockSize: Int
    public let blockCount: Int
    public let kvHeads: Int
    public let headDim: Int
    public let type: KVCacheType
    /// Per layer, the storage the kernels address (layout in tern_kv_layer's comment). Zeroed pages
    /// from calloc: memory is only committed as blocks are first written.
    private let layerStorage: UnsafeMutablePointer<tern_kv_layer>

    public init(layers: Int, blockSize: Int, blockCount: Int, kvHeads: Int, headDim: Int, type: KVCacheType) {
        self.layers = layers
        self.blockSize = blockSize
        self.blockCount = blockCount
        self.kvHeads = kvHeads
        self.headDim = headDim
        self.type = type
        let elements = blockCount * blockSize * kvHeads * headDim
        let scales = type == .q8_0 ? blockCount * blockSize * kvHeads * KVCacheType.q8Groups(headDim: headDim) : 0
        layerStorage = .allocate(capacity: layers)
        for layer in 0..<layers {
            layerStorage[layer] = tern_kv_layer(type: type.rawValue, block_size: blockSize, n_kv_heads: kvHeads, head_dim: headDim,
                                                keys: Self.zeroed(elements, type.elementBytes), values: Self.zeroed(elements, type.elementBytes),
                                                key_scales: scales > 0 ? Self.zeroed(scales, 4).assumingMemoryBound(to: Float.self) : nil,
                                                value_scales: scales > 0 ? Self.zeroed(scales, 4).assumingMemoryBound(to: Float.self) : nil)
        }
    }

    deinit {
        for layer in 0..<layers {
            free(layerStorage[layer].keys)
            free(layerStorage[layer].values)
            free(layerStorage[layer].key_scales)
            free(layerStorage[layer].value_scales)
        }
        layerStorage.deallocate()
    }

    private static func zeroed(_ count: Int, _ size: Int) -> UnsafeMutableRawPointer {
        guard let memory = calloc(max(count, 1), size) else { fatalError("cannot allocate \(count * size) bytes for the KV cache") }
        return memory
    }

    public var kvDim: Int { kvHeads * headDim }

    public static func bytesPerBlock(layers: Int, blockSize: Int, kvHeads: Int, headDim: Int, type: KVCacheType) -> Int {
        layers * blockSize * type.bytesPerTokenAndLayer(kvHeads: kvHeads, headDim: headDim)
    }

    /// Writes one token's keys and values (kvDim floats each) at `position` of a sequence.
    public func store(layer: Int, blockTable: [Int32], position: Int, key: UnsafePointer<Float>, value: UnsafePointer<Float>) {
        tern_kv_store(layerStorage + layer, Int(blockTable[position / blockSize]), position % blockSize, key, value)
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
        let floats = tern_attention_scratch_floats(heads, kvHeads, headDim, blockSize, Int32(compute.threads))
        let scratch = compute.scratch(bytes: floats * MemoryLayout<Float>.size).assumingMemoryBound(to: Float.self)
        // Every chunk's block table, end to end in one buffer the kernel reads.
        chunks.flatMap(\.blockTable).withUnsafeBufferPointer { tables in
            var offset = 0
            let sequences = chunks.map { chunk in
                defer { offset += chunk.blockTable.count }
                return tern_attention_sequence(block_table: tables.baseAddress.map { $0 + offset }, start_pos: chunk.startPosition,
                                               tokens: chunk.tokens)
            }
            let run = { (slopes: UnsafePointer<Float>?) in
                tern_attention(compute.pool, queries, self.layerStorage + layer, sequences, sequences.count, window ?? 0, heads, scale,
                               slopes, scratch, out)
            }
            if let alibiSlopes { alibiSlopes.withUnsafeBufferPointer { run($0.baseAddress) } } else { run(nil) }
        }
    }
}
