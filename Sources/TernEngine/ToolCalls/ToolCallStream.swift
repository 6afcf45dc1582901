// A streamed reply split as it arrives: its text goes out at once (all but what may be the start
// of the calls marker), each tool call as soon as it is complete — its name first, then its
// arguments — as OpenAI's stream deltas carry them. Calls that turn out malformed are sent as text.
// A forced reply (its shape guaranteed by a constraint) streams its arguments as they are written.

public struct ToolCallStream: Sendable {
    public enum Event: Equatable, Sendable {
        case content(String)
        /// Call `index` of the reply begins: its name (the arguments follow in `.arguments`).
        case call(index: Int, name: String)
        case arguments(index: Int, String)
    }

    public let format: ToolCallFormat
    private var reply = ""
    /// How much of `reply` has gone out as text.
    private var sentContent = 0
    /// Where the calls part starts in `reply`, once seen.
    private var callsStart: String.Index?
    private var sentCalls = 0
    public private(set) var hasCalls = false
    /// Set for forced replies in the JSON formats: calls go out piece by piece.
    private var streamer: ArgumentsStreamer?
    private let streamsArguments: Bool

    /// `streamsArguments`: the reply is constrained to calls, so their arguments can go out as they come.
    public init(format: ToolCallFormat, streamsArguments: Bool = false) {
        self.format = format
        self.streamsArguments = streamsArguments && format != .chatglm3
    }

    public mutating func feed(_ text: String) -> [Event] {
        reply += text
        if callsStart == nil {
            if let opening = format.opening {
                if let range = reply.range(of: opening) { callsStart = range.lowerBound } else { return content(upTo: Self.safeEnd(reply, opening: opening)) }
            } else {
                switch format.startsCalls(reply[...]) {
                case true?: callsStart = reply.startIndex
                case false?: return content(upTo: reply.count)
                case nil: return []
                }
            }
        }
        var events = content(upTo: reply.distance(from: reply.startIndex, to: callsStart!))
        if streamsArguments {
            if streamer == nil { streamer = ArgumentsStreamer(callsStart: reply.utf8.distance(from: reply.startIndex, to: callsStart!)) }
            events += streamer!.feed(Array(reply.utf8))
            sentCalls = streamer!.callCount
            hasCalls = hasCalls || !events.isEmpty
            return events
        }
        events += completeCalls(final: false)
        return events
    }

    /// Flushes the rest at the end of the reply: the last call, or the held-back text.
    public mutating func finish() -> [Event] {
        guard callsStart != nil else { return content(upTo: reply.count) }
        return completeCalls(final: true)
    }

    private mutating func content(upTo end: Int) -> [Event] {
        guard end > sentContent else { return [] }
        let start = reply.index(reply.startIndex, offsetBy: sentContent), stop = reply.index(reply.startIndex, offsetBy: end)
        sentContent = end
        return [.content(String(reply[start..<stop]))]
    }

    /// The calls the calls part holds so far that have not gone out. Only hermes blocks close on
    /// their own; the other formats are complete when the reply ends.
    private mutating func completeCalls(final: Bool) -> [Event] {
        let part = reply[callsStart!...]
        let complete: Substring
        if final {
            complete = part
        } else if format == .hermes, let close = part.range(of: "</tool_call>", options: .backwards) {
            complete = part[..<close.upperBound]
        } else {
            return []
        }
        guard let calls = format.parseCalls(complete) else {
            // Malformed: what has not gone out as a call goes out as text (only at the end, when nothing more can fix it).
            guard final, !hasCalls else { return [] }
            callsStart = nil
            return content(upTo: reply.count)
        }
        var events: [Event] = []
        for (index, call) in calls.enumerated().dropFirst(sentCalls) {
            events += [.call(index: index, name: call.name), .arguments(index: index, call.arguments)]
        }
        sentCalls = calls.count
        hasCalls = hasCalls || !calls.isEmpty
        return events
    }

    /// How much of `text` can go out before a possible start of `opening` at its end.
    static func safeEnd(_ text: String, opening: String) -> Int {
        let count = text.count
        for held in stride(from: min(opening.count - 1, count), to: 0, by: -1) where opening.hasPrefix(text.suffix(held)) {
            return count - held
        }
        return count
    }
}
