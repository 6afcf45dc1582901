// `tern serve` settings from flags, environment variables and a YAML file: flag > env > file > default.
import Foundation
import Yams

public struct SettingSources {
    let environment: [String: String]
    /// Keys of the YAML file, with '-' and '_' treated alike.
    let file: [String: Any]

    public init(configFile: String?, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        self.environment = environment
        guard let configFile else { file = [:]; return }
        let text: String
        do { text = try String(contentsOfFile: configFile, encoding: .utf8) } catch {
            throw SettingsError("cannot read config file \(configFile): \(error.localizedDescription)")
        }
        let parsed: Any?
        do { parsed = try Yams.load(yaml: text) } catch { throw SettingsError("config file \(configFile) is not valid YAML: \(error)") }
        guard let mapping = parsed as? [String: Any] else {
            if parsed == nil { file = [:]; return }
            throw SettingsError("config file \(configFile) must be a mapping of setting names to values")
        }
        file = Dictionary(mapping.map { ($0.key.replacingOccurrences(of: "_", with: "-"), $0.value) }, uniquingKeysWith: { a, _ in a })
    }

    /// The text of a setting from the environment or the file.
    public func text(env: String?, key: String) -> String? {
        if let env, let value = environment[env], !value.isEmpty { return value }
        guard let value = file[key] else { return nil }
        if let list = value as? [Any] { return list.map { "\($0)" }.joined(separator: ",") }
        return "\(value)"
    }

    public func resolve(_ flag: String?, env: String?, key: String) -> String? {
        flag ?? text(env: env, key: key)
    }

    public func resolve(_ flag: Int?, env: String?, key: String, default fallback: Int) throws -> Int {
        if let flag { return flag }
        guard let text = text(env: env, key: key) else { return fallback }
        guard let value = Int(text.trimmingCharacters(in: .whitespaces)) else {
            throw SettingsError("\(key) must be an integer, got '\(text)'")
        }
        return value
    }

    /// A yes/no setting's text: 1/true/yes/on or 0/false/no/off, any case; nil for anything else.
    static func boolean(_ text: String) -> Bool? {
        switch text.lowercased() {
        case "1", "true", "yes", "on": return true
        case "0", "false", "no", "off": return false
        default: return nil
        }
    }

    /// The environment variable of a setting: its key in upper case with '_' (max-model-len → MAX_MODEL_LEN).
    public static func environmentName(_ key: String) -> String {
        key.uppercased().replacingOccurrences(of: "-", with: "_")
    }

    public func resolve(_ flag: String?, key: String) -> String? {
        resolve(flag, env: Self.environmentName(key), key: key)
    }

    public func resolve(_ flag: Int?, key: String, default fallback: Int) throws -> Int {
        try resolve(flag, env: Self.environmentName(key), key: key, default: fallback)
    }

    public func resolve(_ flag: Bool, key: String) -> Bool {
        resolve(flag, env: Self.environmentName(key), key: key)
    }

    /// A true/false setting whose default is true (so only an explicit false turns it off).
    public func resolve(_ flag: Bool?, env: String, key: String, default fallback: Bool) throws -> Bool {
        if let flag { return flag }
        guard let text = text(env: env, key: key) else { return fallback }
        guard let value = Self.boolean(text) else { throw SettingsError("\(key) must be true or false, got '\(text)'") }
        return value
    }

    public func resolve(_ flag: Bool, env: String?, key: String) -> Bool {
        if flag { return true }
        guard let text = text(env: env, key: key)?.lowercased() else { return false }
        return Self.boolean(text) ?? false
    }
}

public struct SettingsError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
