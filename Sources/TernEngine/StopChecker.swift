// Finds stop strings in streamed text, even across token boundaries, and holds back text
// that might be the start of one so a stop string is never emitted.

public struct StopChecker: Sendable {
    private let stops: [String]
    private var held = ""

    public init(stops: [String]) {
        self.stops = stops.filter { !$0.isEmpty }
    }

    public enum Outcome: Equatable, Sendable {
        /// Text that is safe to emit now.
        case text(String)
        /// A stop string was found: the text before it, then the sequence ends.
        case stopped(String, stop: String)
    }

    public mutating func append(_ text: String) -> Outcome {
        held += text
        guard !stops.isEmpty else { return .text(take(held.count)) }
        var earliest: (Range<String.Index>, String)?
        for stop in stops {
            if let range = held.range(of: stop), earliest == nil || range.lowerBound < earliest!.0.lowerBound {
                earliest = (range, stop)
            }
        }
        if let (range, stop) = earliest {
            let before = String(held[..<range.lowerBound])
            held = ""
            return .stopped(before, stop: stop)
        }
        return .text(take(held.count - longestStopPrefixSuffix()))
    }

    /// Releases what is held at the end of the sequence.
    public mutating func finish() -> String { take(held.count) }

    private mutating func take(_ count: Int) -> String {
        let cut = held.index(held.startIndex, offsetBy: count)
        defer { held = String(held[cut...]) }
        return String(held[..<cut])
    }

    /// Characters at the end of the held text that begin some stop string.
    private func longestStopPrefixSuffix() -> Int {
        var longest = 0
        for stop in stops {
            for length in stride(from: min(stop.count - 1, held.count), to: longest, by: -1)
            where held.hasSuffix(stop.prefix(length)) {
                longest = length
                break
            }
        }
        return longest
    }
}
