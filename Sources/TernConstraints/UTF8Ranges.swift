// Code point ranges as UTF-8 byte patterns: a range of characters becomes a few sequences of
// byte ranges (each byte position one range), so character classes run on a byte-level grammar.

enum UTF8Ranges {
    static let maxScalar: UInt32 = 0x10FFFF

    /// Byte-range sequences that together match exactly the UTF-8 encodings of `range`
    /// (surrogates, which have no UTF-8 encoding, left out).
    static func sequences(_ range: ClosedRange<UInt32>) -> [[ClosedRange<UInt8>]] {
        var out: [[ClosedRange<UInt8>]] = []
        split(range.lowerBound, min(range.upperBound, maxScalar), into: &out)
        return out
    }

    private static func split(_ low: UInt32, _ high: UInt32, into out: inout [[ClosedRange<UInt8>]]) {
        guard low <= high else { return }
        if low <= 0xDFFF && high >= 0xD800 {
            if low < 0xD800 { split(low, 0xD7FF, into: &out) }
            if high > 0xDFFF { split(0xE000, high, into: &out) }
            return
        }
        // One encoded length per piece.
        for boundary: UInt32 in [0x7F, 0x7FF, 0xFFFF] where low <= boundary && boundary < high {
            split(low, boundary, into: &out)
            split(boundary + 1, high, into: &out)
            return
        }
        let length = encode(low).count
        // Split until every continuation byte position spans a whole aligned block.
        for continuation in 1..<max(length, 1) {
            let mask: UInt32 = (1 << (6 * UInt32(continuation))) - 1
            if low & ~mask != high & ~mask {
                if low & mask != 0 {
                    split(low, low | mask, into: &out)
                    split((low | mask) + 1, high, into: &out)
                    return
                }
                if high & mask != mask {
                    split(low, (high & ~mask) - 1, into: &out)
                    split(high & ~mask, high, into: &out)
                    return
                }
            }
        }
        let lows = encode(low), highs = encode(high)
        out.append(zip(lows, highs).map { $0...$1 })
    }

    static func encode(_ scalar: UInt32) -> [UInt8] {
        switch scalar {
        case 0..<0x80: return [UInt8(scalar)]
        case 0x80..<0x800: return [UInt8(0xC0 | scalar >> 6), UInt8(0x80 | scalar & 0x3F)]
        case 0x800..<0x10000:
            return [UInt8(0xE0 | scalar >> 12), UInt8(0x80 | (scalar >> 6) & 0x3F), UInt8(0x80 | scalar & 0x3F)]
        default:
            return [UInt8(0xF0 | scalar >> 18), UInt8(0x80 | (scalar >> 12) & 0x3F), UInt8(0x80 | (scalar >> 6) & 0x3F),
                    UInt8(0x80 | scalar & 0x3F)]
        }
    }
}
