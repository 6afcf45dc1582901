// KV cache blocks: reference counted, handed out from a free list. With prefix caching, a full
// block is known by the hash of (its parent's hash, its tokens); when its last user lets go it
// stays cached, and a later sequence that starts with the same tokens reuses it instead of
// recomputing. Cached blocks nobody uses are evicted least recently released first.

public final class BlockPool: @unchecked Sendable {
    public let blockSize: Int
    public let blockCount: Int
    private var free: [Int32]
    private var references: [Int]
    /// The content hash of each block registered as a full, reusable block.
    private var hashes: [UInt64?]
    private var blockByHash: [UInt64: Int32] = [:]
    /// Cached blocks with no users, oldest release first (evicted from the front).
    private var idle = LRUSet()

    public init(blockSize: Int, blockCount: Int) {
        self.blockSize = blockSize
        self.blockCount = blockCount
        free = (0..<Int32(blockCount)).reversed()
        references = [Int](repeating: 0, count: blockCount)
        hashes = [UInt64?](repeating: nil, count: blockCount)
    }

    /// Blocks that can be handed out now: free ones and cached ones nobody uses.
    public var availableBlockCount: Int { free.count + idle.count }
    /// Blocks some sequence holds.
    public var usedBlockCount: Int { blockCount - availableBlockCount }

    public func blocksNeeded(forTokens tokens: Int) -> Int { (tokens + blockSize - 1) / blockSize }

    /// Grows `table` to cover `tokens` positions; false (and no change) when the pool is short.
    public func reserve(_ table: inout [Int32], forTokens tokens: Int) -> Bool {
        let missing = blocksNeeded(forTokens: tokens) - table.count
        guard missing > 0 else { return true }
        guard missing <= availableBlockCount else { return false }
        for _ in 0..<missing { table.append(take()) }
        return true
    }

    private func take() -> Int32 {
        let block: Int32
        if let next = free.popLast() {
            block = next
        } else {
            block = idle.removeOldest()!
            blockByHash[hashes[Int(block)]!] = nil
            hashes[Int(block)] = nil
        }
        references[Int(block)] = 1
        return block
    }

    /// Gives the table's blocks back; registered full blocks stay cached for reuse.
    public func release(_ table: inout [Int32]) {
        for block in table.reversed() {
            let index = Int(block)
            references[index] -= 1
            guard references[index] == 0 else { continue }
            if hashes[index] != nil { idle.insert(block) } else { free.append(block) }
        }
        table.removeAll()
    }

    /// Takes a reference to the cached blocks for the longest prefix of `blockHashes` found.
    public func reuse(_ blockHashes: [UInt64]) -> [Int32] {
        var blocks: [Int32] = []
        for hash in blockHashes {
            guard let block = blockByHash[hash] else { break }
            if references[Int(block)] == 0 { idle.remove(block) }
            references[Int(block)] += 1
            blocks.append(block)
        }
        return blocks
    }

    /// Marks `block` as holding the full block with this content hash, so others can reuse it.
    public func register(_ block: Int32, hash: UInt64) {
        guard hashes[Int(block)] == nil, blockByHash[hash] == nil else { return }
        hashes[Int(block)] = hash
        blockByHash[hash] = block
    }

    /// Reference count of one block (for tests of the accounting).
    public func referenceCount(_ block: Int32) -> Int { references[Int(block)] }

    /// Hash of a full block from its parent's hash and its tokens (FNV-1a over 64-bit words,
    /// then a final mix so nearby inputs spread out).
    public static func hash(parent: UInt64, tokens: ArraySlice<Int>) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325 ^ parent
        for token in tokens {
            h = (h ^ UInt64(bitPattern: Int64(token))) &* 0x0000_0100_0000_01B3
        }
        h ^= h >> 33
        h = h &* 0xFF51_AFD7_ED55_8CCD
        h ^= h >> 33
        return h
    }

    /// Hashes of the full blocks of `tokens`, each chained to the one before, the first to `seed`.
    public func blockHashes(_ tokens: [Int], seed: UInt64 = 0) -> [UInt64] {
        var result: [UInt64] = []
        var parent = seed
        for start in stride(from: 0, to: tokens.count - blockSize + 1, by: blockSize) {
            parent = Self.hash(parent: parent, tokens: tokens[start..<(start + blockSize)])
            result.append(parent)
        }
        return result
    }
}

/// Blocks in the order they were inserted, with removal of any one in O(1).
struct LRUSet {
    private var order: [Int32: (previous: Int32?, next: Int32?)] = [:]
    private var oldest: Int32?
    private var newest: Int32?

    var count: Int { order.count }

    mutating func insert(_ block: Int32) {
        order[block] = (newest, nil)
        if let newest { order[newest]!.next = block } else { oldest = block }
        newest = block
    }

    mutating func remove(_ block: Int32) {
        guard let links = order.removeValue(forKey: block) else { return }
        if let previous = links.previous { order[previous]!.next = links.next } else { oldest = links.next }
        if let next = links.next { order[next]!.previous = links.previous } else { newest = links.previous }
    }

    mutating func removeOldest() -> Int32? {
        guard let block = oldest else { return nil }
        remove(block)
        return block
    }
}
