// Reads typed fields from a JSON request body; every wrong type or range is a 400 naming the field.
import TernFormats

struct RequestFields {
    let object: JSONObject

    init(body: [UInt8]) throws {
        let value: JSONValue
        do { value = try JSONParser.parse(body, strict: true) } catch let error as FormatError {
            throw APIError.badRequest("malformed JSON body: \(error.message)")
        }
        guard let object = value.objectValue else { throw APIError.badRequest("the request body must be a JSON object") }
        self.object = object
    }

    /// A present, non-null value.
    func value(_ key: String) -> JSONValue? {
        guard let value = object[key], !value.isNull else { return nil }
        return value
    }

    func string(_ key: String) throws -> String? {
        guard let value = value(key) else { return nil }
        guard let text = value.stringValue else { throw APIError.badRequest("'\(key)' must be a string", param: key) }
        return text
    }

    func requiredString(_ key: String) throws -> String {
        guard let text = try string(key) else { throw APIError.badRequest("'\(key)' is required", param: key) }
        return text
    }

    func bool(_ key: String) throws -> Bool? {
        guard let value = value(key) else { return nil }
        guard let flag = value.boolValue else { throw APIError.badRequest("'\(key)' must be a boolean", param: key) }
        return flag
    }

    func int(_ key: String, in range: ClosedRange<Int>) throws -> Int? {
        guard let value = value(key) else { return nil }
        guard case .int(let number) = value else { throw APIError.badRequest("'\(key)' must be an integer", param: key) }
        guard range.contains(number) else {
            throw APIError.badRequest("'\(key)' must be between \(range.lowerBound) and \(range.upperBound), got \(number)", param: key)
        }
        return number
    }

    func double(_ key: String, in range: ClosedRange<Double>) throws -> Double? {
        guard let value = value(key) else { return nil }
        guard let number = value.doubleValue, number.isFinite else { throw APIError.badRequest("'\(key)' must be a number", param: key) }
        guard range.contains(number) else {
            throw APIError.badRequest("'\(key)' must be between \(range.lowerBound) and \(range.upperBound), got \(number)", param: key)
        }
        return number
    }

    /// A string or a list of strings (`stop`).
    func strings(_ key: String) throws -> [String] {
        guard let value = value(key) else { return [] }
        if let single = value.stringValue { return [single] }
        guard let list = value.arrayValue, list.allSatisfy({ $0.stringValue != nil }) else {
            throw APIError.badRequest("'\(key)' must be a string or a list of strings", param: key)
        }
        return list.compactMap(\.stringValue)
    }

    func ints(_ key: String) throws -> [Int] {
        guard let value = value(key) else { return [] }
        guard let list = value.arrayValue, list.allSatisfy({ if case .int = $0 { return true } else { return false } }) else {
            throw APIError.badRequest("'\(key)' must be a list of integers", param: key)
        }
        return list.compactMap(\.intValue)
    }
}
