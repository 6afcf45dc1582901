// A forced reply's calls (tool_choice "required" or named: the grammar guarantees their shape)
// streamed as they are written: a call's name as soon as its `{"name": "...", "arguments": `
// head is complete, then its arguments object in pieces up to its closing brace. Replies read
// for calls of their own accord are not streamed this way: a malformed one must still become text.
import TernFormats

struct ArgumentsStreamer: Sendable {
    /// Where the next call's head is looked for (UTF-8 offset into the reply).
    private var searchFrom: Int
    /// The call whose arguments are going out: its index, how far they went out, and where the
    /// scan for their closing brace stands.
    private var live: (index: Int, sent: Int, scanned: Int, depth: Int, inString: Bool, escaped: Bool)?
    private(set) var callCount = 0

    init(callsStart: Int) { searchFrom = callsStart }

    mutating func feed(_ reply: [UInt8]) -> [ToolCallStream.Event] {
        var events: [ToolCallStream.Event] = []
        while true {
            if live == nil {
                guard let (name, argumentsStart) = Self.head(in: reply, from: searchFrom) else { return events }
                events.append(.call(index: callCount, name: name))
                live = (callCount, argumentsStart, argumentsStart, 0, false, false)
            }
            guard var call = live else { return events }
            var end: Int?
            var position = call.scanned
            while position < reply.count, end == nil {
                let byte = reply[position]
                position += 1
                if call.inString {
                    if call.escaped { call.escaped = false } else if byte == UInt8(ascii: "\\") { call.escaped = true } else if byte == UInt8(ascii: "\"") { call.inString = false }
                    continue
                }
                switch byte {
                case UInt8(ascii: "\""): call.inString = true
                case UInt8(ascii: "{"), UInt8(ascii: "["): call.depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    call.depth -= 1
                    if call.depth == 0 { end = position }
                default: break
                }
            }
            call.scanned = position
            let stop = end ?? reply.count
            if stop > call.sent {
                events.append(.arguments(index: call.index, String(decoding: reply[call.sent..<stop], as: UTF8.self)))
                call.sent = stop
            }
            guard let end else { live = call; return events }
            live = nil
            callCount += 1
            searchFrom = end
        }
    }

    /// `{"name": "<name>", "arguments": ` (or "parameters") from the first `{` at or after `start`:
    /// the name and where the arguments object begins; nil while incomplete.
    private static func head(in reply: [UInt8], from start: Int) -> (String, Int)? {
        guard var i = reply[start...].firstIndex(of: UInt8(ascii: "{")) else { return nil }
        i += 1
        func skipSpace() { while i < reply.count, reply[i] == 0x20 || reply[i] == 0x0A || reply[i] == 0x09 || reply[i] == 0x0D { i += 1 } }
        func take(_ text: String) -> Bool {
            let bytes = Array(text.utf8)
            guard i + bytes.count <= reply.count, Array(reply[i..<(i + bytes.count)]) == bytes else { return false }
            i += bytes.count
            return true
        }
        skipSpace()
        guard take("\"name\"") else { return nil }
        skipSpace()
        guard take(":") else { return nil }
        skipSpace()
        guard i < reply.count, reply[i] == UInt8(ascii: "\"") else { return nil }
        let nameStart = i
        i += 1
        var escaped = false
        while i < reply.count, escaped || reply[i] != UInt8(ascii: "\"") {
            escaped = !escaped && reply[i] == UInt8(ascii: "\\")
            i += 1
        }
        guard i < reply.count else { return nil }
        i += 1
        guard let name = (try? JSONParser.parse(Array(reply[nameStart..<i])))?.stringValue else { return nil }
        skipSpace()
        guard take(",") else { return nil }
        skipSpace()
        guard take("\"arguments\"") || take("\"parameters\"") else { return nil }
        skipSpace()
        guard take(":") else { return nil }
        skipSpace()
        guard i < reply.count, reply[i] == UInt8(ascii: "{") else { return nil }
        return (name, i)
    }
}
