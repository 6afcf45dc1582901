// A set of byte values, the terminal of every grammar: one byte of input matches it or not.

public struct ByteSet: Hashable, Sendable {
    private var low: UInt64 = 0, midLow: UInt64 = 0, midHigh: UInt64 = 0, high: UInt64 = 0

    public init() {}

    public init(_ range: ClosedRange<UInt8>) {
        for byte in range { insert(byte) }
    }

    public init(byte: UInt8) { insert(byte) }

    public func contains(_ byte: UInt8) -> Bool {
        let bit = UInt64(1) << UInt64(byte & 63)
        switch byte >> 6 {
        case 0: return low & bit != 0
        case 1: return midLow & bit != 0
        case 2: return midHigh & bit != 0
        default: return high & bit != 0
        }
    }

    public mutating func insert(_ byte: UInt8) {
        let bit = UInt64(1) << UInt64(byte & 63)
        switch byte >> 6 {
        case 0: low |= bit
        case 1: midLow |= bit
        case 2: midHigh |= bit
        default: high |= bit
        }
    }

    public var isEmpty: Bool { low | midLow | midHigh | high == 0 }
}
