// Log lines as text or JSON (one object per line: time, level, logger, message and the
// metadata such as request_id), to the console and optionally a rotating file.
import Foundation
import Logging
import TernFormats

public enum LogFormat: String, Sendable, CaseIterable {
    case text, json
}

/// Where log lines go; shared by every logger of the process.
public final class LogSink: Sendable {
    let format: LogFormat
    let file: RotatingLogFile?

    public init(format: LogFormat, file: RotatingLogFile?) {
        self.format = format
        self.file = file
    }

    func emit(_ line: String) {
        FileHandle.standardError.write(Data(line.utf8))
        file?.write(line)
    }

    /// Installs the sink as the process's logging backend.
    public func bootstrap(level: Logger.Level) {
        LoggingSystem.bootstrap { label in TernLogHandler(label: label, sink: self, logLevel: level) }
    }
}

public struct TernLogHandler: LogHandler {
    let label: String
    let sink: LogSink
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let level = event.level, message = event.message
        var merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
        if let error = event.error { merged["error"] = .string("\(error)") }
        let time = Date().formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted))
        switch sink.format {
        case .text:
            let fields = merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            sink.emit("\(time) \(level) \(label): \(message)\(fields.isEmpty ? "" : " " + fields)\n")
        case .json:
            var object = JSONObject([("time", .string(time)), ("level", .string(level.rawValue)), ("logger", .string(label)),
                                     ("message", .string(message.description))])
            for (key, value) in merged.sorted(by: { $0.key < $1.key }) { object[key] = Self.json(value) }
            sink.emit(JSONValue.object(object).serialized + "\n")
        }
    }

    private static func json(_ value: Logger.MetadataValue) -> JSONValue {
        switch value {
        case .string(let text): return Int(text).map { .int($0) } ?? .string(text)
        case .stringConvertible(let convertible): return Int("\(convertible)").map { .int($0) } ?? .string("\(convertible)")
        case .array(let items): return .array(items.map(json))
        case .dictionary(let entries): return .object(JSONObject(entries.sorted { $0.key < $1.key }.map { ($0.key, json($0.value)) }))
        }
    }
}
