// Numbers within bounds as grammar expressions: integer ranges digit by digit (the way a range
// becomes a regular expression), and decimals whose every value lies inside the bounds.

enum NumberGrammar {
    /// Longest digit run generated for one part of a number.
    static let maxDigits = 15

    private static let digit = GrammarExpression.character(in: CodePointSet([48...57]))

    /// 0 or a digit run without leading zeros.
    static let unsignedInteger = GrammarExpression.choice([
        .literal("0"),
        .sequence([.character(in: CodePointSet([49...57])), .repeated(digit, min: 0, max: maxDigits - 1)]),
    ])

    /// Integers in `low...high` (either side open when nil), without leading zeros or "-0".
    static func integers(from low: Int?, to high: Int?) -> GrammarExpression {
        var options: [GrammarExpression] = []
        // Non-negative part.
        if high.map({ $0 >= 0 }) ?? true {
            options.append(unsigned(from: UInt64(max(low ?? 0, 0)), to: high.map { UInt64($0) }))
        }
        // Negative part: -k for k in max(1, -high)...(-low).
        if low.map({ $0 < 0 }) ?? true {
            let smallest = UInt64(max(1, -(high ?? -1)))
            let magnitude = unsigned(from: smallest, to: low.map { UInt64(-$0) })
            options.append(.sequence([.literal("-"), magnitude]))
        }
        return options.count == 1 ? options[0] : .choice(options)
    }

    /// Decimals in the bounds: the integers in them, and fractions k.d... only where every value
    /// with that integer part is inside (a conservative cut that keeps every output valid).
    static func decimals(minimum: Double?, exclusiveMinimum: Bool, maximum: Double?, exclusiveMaximum: Bool) -> GrammarExpression {
        func lowestInteger(_ bound: Double, exclusive: Bool) -> Int { exclusive ? Int((bound + 1).rounded(.down)) : Int(bound.rounded(.up)) }
        func highestInteger(_ bound: Double, exclusive: Bool) -> Int { exclusive ? Int((bound - 1).rounded(.up)) : Int(bound.rounded(.down)) }
        let low = minimum.map { lowestInteger($0, exclusive: exclusiveMinimum) }
        let high = maximum.map { highestInteger($0, exclusive: exclusiveMaximum) }
        var options: [GrammarExpression] = []
        if low.flatMap({ l in high.map { l > $0 } }) != true { options.append(integers(from: low, to: high)) }
        let fraction = GrammarExpression.sequence([.literal("."), .repeated(digit, min: 1, max: maxDigits)])
        // k.ddd with k >= 0 covers [k, k+1): needs k >= minimum (> if exclusive) and k+1 <= maximum.
        let positiveLow = max(0, minimum.map { lowestInteger($0, exclusive: exclusiveMinimum) } ?? 0)
        let positiveHigh = maximum.map { Int(($0 - 1).rounded(.down)) }
        if positiveHigh.map({ $0 >= positiveLow }) ?? true {
            options.append(.sequence([unsigned(from: UInt64(positiveLow), to: positiveHigh.map { UInt64($0) }), fraction]))
        }
        // -k.ddd with k >= 1 covers (-k-1, -k]: needs -k <= maximum (< if exclusive) and -k-1 >= minimum.
        let negativeLow = max(1, maximum.map { exclusiveMaximum ? Int((-$0).rounded(.down)) + 1 : Int((-$0).rounded(.up)) } ?? 1)
        let negativeHigh = minimum.map { Int((-$0).rounded(.down)) - 1 }
        if negativeHigh.map({ $0 >= negativeLow }) ?? true {
            options.append(.sequence([.literal("-"), unsigned(from: UInt64(negativeLow), to: negativeHigh.map { UInt64($0) }), fraction]))
        }
        return options.count == 1 ? options[0] : .choice(options)
    }

    /// Unsigned integers in `low...high` (nil: up to `maxDigits` digits).
    static func unsigned(from low: UInt64, to high: UInt64?) -> GrammarExpression {
        let top = high ?? (UInt64(pow10(maxDigits)) - 1)
        guard low <= top else { return .choice([]) }
        var options: [GrammarExpression] = []
        let lowDigits = String(low).count, highDigits = String(top).count
        for length in lowDigits...highDigits {
            let first = length == 1 ? 0 : UInt64(pow10(length - 1))
            let last = UInt64(pow10(length)) - 1
            let from = max(low, first), to = min(top, last)
            if from <= to { options.append(sameLength(Array(String(from).utf8), Array(String(to).utf8))) }
        }
        return options.count == 1 ? options[0] : .choice(options)
    }

    private static func pow10(_ n: Int) -> Double { (0..<n).reduce(1.0) { value, _ in value * 10 } }

    /// Digit strings of one length between `low` and `high` inclusive.
    private static func sameLength(_ low: [UInt8], _ high: [UInt8]) -> GrammarExpression {
        guard let l = low.first, let h = high.first else { return .empty }
        let restLow = Array(low.dropFirst()), restHigh = Array(high.dropFirst())
        if l == h { return .sequence([.bytes(ByteSet(byte: l)), sameLength(restLow, restHigh)]) }
        let zeros = [UInt8](repeating: 48, count: restLow.count), nines = [UInt8](repeating: 57, count: restLow.count)
        if restLow == zeros && restHigh == nines {
            return .sequence([.bytes(ByteSet(l...h)), .repeated(digit, min: restLow.count, max: restLow.count)])
        }
        var options: [GrammarExpression] = [.sequence([.bytes(ByteSet(byte: l)), sameLength(restLow, nines)])]
        if l + 1 <= h - 1 {
            options.append(.sequence([.bytes(ByteSet((l + 1)...(h - 1))), .repeated(digit, min: restLow.count, max: restLow.count)]))
        }
        options.append(.sequence([.bytes(ByteSet(byte: h)), sameLength(zeros, restHigh)]))
        return .choice(options)
    }
}
