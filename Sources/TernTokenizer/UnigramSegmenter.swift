// SentencePiece's unigram model: a text becomes the sequence of vocabulary pieces with the highest
// total score (Viterbi over its characters). A character no piece starts with scores 10 below the
// lowest piece and becomes the unknown token, or its UTF-8 bytes under byte fallback; user-defined
// pieces score just under the best any pieces of that length could, so they win where they match.

struct UnigramSegmenter: Sendable {
    let scores: [Float]
    /// Pieces the segmentation may use: normal and user-defined ones (not control, unused or byte pieces).
    let usable: [Bool]
    let userDefined: [Bool]
    /// The longest piece, in characters.
    let longest: Int
    let unknownScore: Float
    let bestScore: Float

    /// `types`: SentencePiece's piece types (1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte).
    init(pieces: [String], scores: [Float], types: [Int]) {
        self.scores = scores
        usable = types.map { $0 == 1 || $0 == 4 }
        userDefined = types.map { $0 == 4 }
        longest = zip(pieces, usable).filter(\.1).map { $0.0.unicodeScalars.count }.max() ?? 1
        let normal = zip(scores, types).filter { $0.1 == 1 }.map(\.0)
        unknownScore = (normal.min() ?? 0) - 10
        bestScore = normal.max() ?? 0
    }

    func segment(_ text: String, model: BPEModel, into output: inout [Int]) {
        let characters = Array(text.unicodeScalars)
        let n = characters.count
        guard n > 0 else { return }
        // best[end]: the best path over characters[..<end]: its score, where its last piece starts, that piece (nil: unknown).
        var best = [(score: Float, start: Int, id: Int?)?](repeating: nil, count: n + 1)
        best[0] = (0, 0, nil)
        for start in 0..<n {
            guard let reached = best[start]?.score else { continue }
            var candidate = String.UnicodeScalarView()
            var coversOne = false
            for end in (start + 1)...min(n, start + longest) {
                candidate.append(characters[end - 1])
                guard let id = model.vocab[String(candidate)], usable[id] else { continue }
                if end == start + 1 { coversOne = true }
                let score = reached + (userDefined[id] ? Float(end - start) * bestScore - 0.1 : scores[id])
                if best[end] == nil || score > best[end]!.score { best[end] = (score, start, id) }
            }
            if !coversOne {
                let score = reached + unknownScore
                if best[start + 1] == nil || score > best[start + 1]!.score { best[start + 1] = (score, start, nil) }
            }
        }
        var path: [(start: Int, end: Int, id: Int?)] = []
        var end = n
        while end > 0, let step = best[end] {
            path.append((step.start, end, step.id))
            end = step.start
        }
        var previousUnknown = false
        for step in path.reversed() {
            if let id = step.id {
                output.append(id)
                previousUnknown = false
                continue
            }
            let characterText = String(String.UnicodeScalarView(characters[step.start..<step.end]))
            if model.byteFallback, let bytes = model.byteIds(of: characterText) {
                output += bytes
            } else if let unknown = model.unknownId, !previousUnknown {
                output.append(unknown)  // a run of unknown characters is one unknown token
            }
            previousUnknown = true
        }
    }
}
