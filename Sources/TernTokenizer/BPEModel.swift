// Byte-pair encoding of one pre-tokenized piece: symbols merge by priority until none apply.
// Priorities come from merge ranks (tokenizer.json) or token scores (SentencePiece vocabularies).

struct BPEModel: Sendable {
    let vocab: [String: Int]
    let tokens: [String]
    /// (left id, right id) packed into one key -> (priority, merged id); lower priority merges first.
    let merges: [UInt64: Merge]
    let unknownId: Int?
    /// A character missing from the vocabulary becomes its UTF-8 bytes as `<0xNN>` tokens.
    let byteFallback: Bool
    /// Consecutive unknown characters become one unknown token.
    let fuseUnknown: Bool
    /// A whole piece that is itself a token is emitted as is, without merging (LLaMA 3).
    let ignoreMerges: Bool
    /// SentencePiece unigram models segment by score instead of merging (then `merges` is empty).
    let unigram: UnigramSegmenter?
    private let byteTokens: [Int?]

    struct Merge: Sendable {
        let priority: Float
        let merged: Int32
    }

    init(tokens: [String], merges: [UInt64: Merge], unknownId: Int?, byteFallback: Bool, fuseUnknown: Bool, ignoreMerges: Bool,
         unigram: UnigramSegmenter? = nil) {
        self.tokens = tokens
        var vocab: [String: Int] = [:]
        vocab.reserveCapacity(tokens.count)
        for (id, token) in tokens.enumerated() where vocab[token] == nil { vocab[token] = id }
        self.vocab = vocab
        self.merges = merges
        self.unknownId = unknownId
        self.byteFallback = byteFallback
        self.fuseUnknown = fuseUnknown
        self.ignoreMerges = ignoreMerges
        self.unigram = unigram
        byteTokens = (0..<256).map { vocab[String(format: "<0x%02X>", $0)] }
    }

    /// Ids of the `<0xNN>` byte tokens the vocabulary has.
    var byteTokenIds: [Int] { byteTokens.compactMap { $0 } }

    static func key(_ left: Int, _ right: Int) -> UInt64 {
        UInt64(UInt32(left)) << 32 | UInt64(UInt32(right))
    }

    /// Merge table from ranked pairs of token strings, as tokenizer.json and GGUF list them.
    static func rankedMerges(_ pairs: [(String, String)], vocab: [String: Int]) -> [UInt64: Merge] {
        var merges: [UInt64: Merge] = [:]
        merges.reserveCapacity(pairs.count)
        for (rank, (left, right)) in pairs.enumerated() {
            guard let l = vocab[left], let r = vocab[right], let m = vocab[left + right] else { continue }
            let key = Self.key(l, r)
            if merges[key] == nil { merges[key] = Merge(priority: Float(rank), merged: Int32(m)) }
        }
        return merges
    }

    /// Merge table of a SentencePiece vocabulary: any two tokens whose concatenation is a token,
    /// the higher the merged token's score, the earlier.
    static func scoredMerges(tokens: [String], scores: [Float], vocab: [String: Int]) -> [UInt64: Merge] {
        var merges: [UInt64: Merge] = [:]
        for (id, token) in tokens.enumerated() {
            let scalars = Array(token.unicodeScalars)
            guard scalars.count > 1 else { continue }
            for cut in 1..<scalars.count {
                var left = String.UnicodeScalarView(), right = String.UnicodeScalarView()
                left.append(contentsOf: scalars[..<cut])
                right.append(contentsOf: scalars[cut...])
                guard let l = vocab[String(left)], let r = vocab[String(right)] else { continue }
                let key = Self.key(l, r)
                let merge = Merge(priority: -scores[id], merged: Int32(id))
                if let existing = merges[key], existing.priority <= merge.priority { continue }
                merges[key] = merge
            }
        }
        return merges
    }

    func encode(_ piece: String, into output: inout [Int]) {
        if let unigram {
            unigram.segment(piece, model: self, into: &output)
            return
        }
        if ignoreMerges, let id = vocab[piece] {
            output.append(id)
            return
        }
        var symbols: [Int] = []
        var previousUnknown = false
        for scalar in piece.unicodeScalars {
            if let id = vocab[String(scalar)] {
                symbols.append(id)
                previousUnknown = false
            } else if byteFallback, let bytes = byteIds(of: String(scalar)) {
                symbols.append(contentsOf: bytes)
                previousUnknown = false
            } else if let unknownId {
                if !(fuseUnknown && previousUnknown) { symbols.append(unknownId) }
                previousUnknown = true
            }
        }
        mergeSymbols(&symbols)
        output.append(contentsOf: symbols)
    }

    /// The `<0xNN>` tokens of a text's UTF-8 bytes, or nil when the vocabulary lacks one.
    func byteIds(of text: String) -> [Int]? {
        var ids: [Int] = []
        for byte in text.utf8 {
            guard let id = byteTokens[Int(byte)] else { return nil }
            ids.append(id)
        }
        return ids
    }

    private func mergeSymbols(_ symbols: inout [Int]) {
        if symbols.count > 1 { symbols = HeapMerger(model: self).merge(symbols) }
    }
}

/// Repeatedly applies the best-priority merge (leftmost among equals): a doubly linked list
/// of symbols and a min-heap of candidate pairs, stale entries skipped when popped.
private struct HeapMerger {
    let model: BPEModel

    struct Candidate: Comparable {
        let priority: Float
        let left: Int
        let leftId: Int
        let rightId: Int
        static func < (a: Candidate, b: Candidate) -> Bool {
            a.priority != b.priority ? a.priority < b.priority : a.left < b.left
        }
    }

    func merge(_ input: [Int]) -> [Int] {
        var ids = input
        var next = Array(1...input.count)
        var previous = Array(-1..<(input.count - 1))
        var alive = [Bool](repeating: true, count: input.count)
        var heap = MinHeap<Candidate>()
        func push(_ i: Int) {
            let j = next[i]
            guard j < ids.count, let merge = model.merges[BPEModel.key(ids[i], ids[j])] else { return }
            heap.push(Candidate(priority: merge.priority, left: i, leftId: ids[i], rightId: ids[j]))
        }
        for i in 0..<(ids.count - 1) { push(i) }
        while let candidate = heap.pop() {
            let i = candidate.left
            let j = next[i]
            guard alive[i], j < ids.count, ids[i] == candidate.leftId, ids[j] == candidate.rightId,
                  let merge = model.merges[BPEModel.key(ids[i], ids[j])] else { continue }
            ids[i] = Int(merge.merged)
            alive[j] = false
            next[i] = next[j]
            if next[j] < ids.count { previous[next[j]] = i }
            if previous[i] >= 0 { push(previous[i]) }
            push(i)
        }
        return (0..<ids.count).filter { alive[$0] }.map { ids[$0] }
    }
}

struct MinHeap<Element: Comparable> {
    private var items: [Element] = []

    mutating func push(_ item: Element) {
        items.append(item)
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard items[child] < items[parent] else { break }
            items.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() -> Element? {
        guard !items.isEmpty else { return nil }
        items.swapAt(0, items.count - 1)
        let top = items.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1, right = left + 1
            var smallest = parent
            if left < items.count, items[left] < items[smallest] { smallest = left }
            if right < items.count, items[right] < items[smallest] { smallest = right }
            if smallest == parent { break }
            items.swapAt(parent, smallest)
            parent = smallest
        }
        return top
    }
}
