// The free list of KV cache blocks; a sequence takes blocks as it grows and gives them back.

public final class BlockPool: @unchecked Sendable {
    public let blockSize: Int
    public let blockCount: Int
    private var free: [Int32]

    public init(blockSize: Int, blockCount: Int) {
        self.blockSize = blockSize
        self.blockCount = blockCount
        free = (0..<Int32(blockCount)).reversed()
    }

    public var freeBlockCount: Int { free.count }

    public func blocksNeeded(forTokens tokens: Int) -> Int { (tokens + blockSize - 1) / blockSize }

    /// Grows `table` to cover `tokens` positions; false (and no change) when the pool is short.
    public func reserve(_ table: inout [Int32], forTokens tokens: Int) -> Bool {
        let missing = blocksNeeded(forTokens: tokens) - table.count
        guard missing > 0 else { return true }
        guard missing <= free.count else { return false }
        table += free.suffix(missing).reversed()
        free.removeLast(missing)
        return true
    }

    public func release(_ table: inout [Int32]) {
        free += table.reversed()
        table.removeAll()
    }
}
