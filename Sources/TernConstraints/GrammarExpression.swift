// The building blocks every constraint compiles to: bytes, sequences, choices, bounded or unbounded
// repetition and references to named rules (which is what lets JSON nest).

public indirect enum GrammarExpression: Sendable, Equatable {
    /// One byte from the set.
    case bytes(ByteSet)
    case sequence([GrammarExpression])
    case choice([GrammarExpression])
    /// `min` to `max` repetitions (nil: no limit).
    case repeated(GrammarExpression, min: Int, max: Int?)
    /// A named rule of the grammar.
    case reference(String)

    /// Matches nothing but the empty string.
    public static let empty = GrammarExpression.sequence([])

    /// The UTF-8 bytes of `text`, in order.
    public static func literal(_ text: String) -> GrammarExpression {
        .sequence(text.utf8.map { .bytes(ByteSet(byte: $0)) })
    }

    public static func optional(_ expression: GrammarExpression) -> GrammarExpression {
        .repeated(expression, min: 0, max: 1)
    }

    /// One character from `set`, as its UTF-8 bytes.
    public static func character(in set: CodePointSet) -> GrammarExpression {
        var ascii = ByteSet()
        var multibyte: [GrammarExpression] = []
        for range in set.ranges {
            for sequence in UTF8Ranges.sequences(range) {
                if sequence.count == 1 {
                    for byte in sequence[0] { ascii.insert(byte) }
                } else {
                    multibyte.append(.sequence(sequence.map { .bytes(ByteSet($0)) }))
                }
            }
        }
        let options = (ascii.isEmpty ? [] : [GrammarExpression.bytes(ascii)]) + multibyte
        return options.count == 1 ? options[0] : .choice(options)
    }
}

/// A set of Unicode code points as sorted, disjoint ranges.
public struct CodePointSet: Sendable, Equatable {
    public private(set) var ranges: [ClosedRange<UInt32>] = []

    public init(_ ranges: [ClosedRange<UInt32>] = []) {
        for range in ranges { insert(range) }
    }

    public static let all = CodePointSet([0...UTF8Ranges.maxScalar])

    public mutating func insert(_ range: ClosedRange<UInt32>) {
        var merged = range
        var kept: [ClosedRange<UInt32>] = []
        for existing in ranges {
            if existing.upperBound + 1 < merged.lowerBound || merged.upperBound + 1 < existing.lowerBound {
                kept.append(existing)
            } else {
                merged = min(existing.lowerBound, merged.lowerBound)...max(existing.upperBound, merged.upperBound)
            }
        }
        kept.append(merged)
        ranges = kept.sorted { $0.lowerBound < $1.lowerBound }
    }

    public mutating func insert(_ scalar: UInt32) { insert(scalar...scalar) }

    public mutating func formUnion(_ other: CodePointSet) {
        for range in other.ranges { insert(range) }
    }

    /// Every code point not in the set.
    public var inverted: CodePointSet {
        var out = CodePointSet()
        var next: UInt32 = 0
        for range in ranges {
            if range.lowerBound > next { out.ranges.append(next...(range.lowerBound - 1)) }
            next = range.upperBound + 1
        }
        if next <= UTF8Ranges.maxScalar { out.ranges.append(next...UTF8Ranges.maxScalar) }
        return out
    }

    public func subtracting(_ other: CodePointSet) -> CodePointSet {
        var out = CodePointSet()
        for range in ranges {
            var pieces = [range]
            for cut in other.ranges {
                pieces = pieces.flatMap { piece -> [ClosedRange<UInt32>] in
                    guard cut.lowerBound <= piece.upperBound && piece.lowerBound <= cut.upperBound else { return [piece] }
                    var rest: [ClosedRange<UInt32>] = []
                    if piece.lowerBound < cut.lowerBound { rest.append(piece.lowerBound...(cut.lowerBound - 1)) }
                    if piece.upperBound > cut.upperBound { rest.append((cut.upperBound + 1)...piece.upperBound) }
                    return rest
                }
            }
            for piece in pieces { out.insert(piece) }
        }
        return out
    }

    public var isEmpty: Bool { ranges.isEmpty }
}
