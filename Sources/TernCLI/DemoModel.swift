// The built-in demo model, served when no model is given: found beside the binary when installed,
// or in the source tree it was built from.
import Foundation
import TernServer

enum DemoModel {
    static let name = "tern-demo"

    /// Where to look, in order: $TERN_DEMO_MODEL, <bin>/../share/tern/tern-demo, <source>/Models/tern-demo.
    static var candidates: [URL] {
        var urls: [URL] = []
        if let path = ProcessInfo.processInfo.environment["TERN_DEMO_MODEL"], !path.isEmpty {
            urls.append(URL(fileURLWithPath: path))
        }
        // The running binary's real path (a command found on PATH has only its name in argv[0]);
        // Linux names it at /proc/self/exe.
        let running = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        let executable = URL(fileURLWithPath: running).resolvingSymlinksInPath()
        urls.append(executable.deletingLastPathComponent().appendingPathComponent("../share/tern/\(name)").standardized)
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        urls.append(source.appendingPathComponent("Models/\(name)"))
        return urls
    }

    static func locate() throws -> URL {
        let found = candidates.first { FileManager.default.fileExists(atPath: $0.appendingPathComponent("config.json").path) }
        guard let found else {
            throw SettingsError("no model given (--model DIR or MODEL_PATH) and the built-in demo model was not found in "
                                + candidates.map(\.path).joined(separator: ", "))
        }
        return found
    }
}
