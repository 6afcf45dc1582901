// Jinja tests (`x is defined`, `x is string`, `n is divisibleby 3`, ...).

enum TestFunctions {
    static let known: Set<String> = [
        "boolean", "callable", "defined", "divisibleby", "eq", "equalto", "even", "false", "float", "in", "integer",
        "iterable", "lower", "mapping", "ne", "none", "number", "odd", "sameas", "sequence", "string", "true",
        "undefined", "upper", "==", "!=",
    ]

    static func apply(_ name: String, _ value: JinjaValue, _ args: [JinjaValue]) throws -> Bool {
        func argument() throws -> JinjaValue {
            guard let first = args.first else { throw EvaluationError("test '\(name)' needs an argument") }
            return first
        }
        switch name {
        case "defined": return !value.isUndefined
        case "undefined": return value.isUndefined
        case "none": if case .none = value { return true } else { return false }
        case "boolean": if case .bool = value { return true } else { return false }
        case "true": if case .bool(true) = value { return true } else { return false }
        case "false": if case .bool(false) = value { return true } else { return false }
        case "string": if case .string = value { return true } else { return false }
        case "integer": if case .int = value { return true } else { return false }
        case "float": if case .double = value { return true } else { return false }
        case "number":
            switch value {
            case .int, .double, .bool: return true
            default: return false
            }
        case "mapping":
            switch value {
            case .dict, .namespace: return true
            default: return false
            }
        case "iterable", "sequence":
            switch value {
            case .array, .dict, .string: return true
            default: return false
            }
        case "callable": if case .callable = value { return true } else { return false }
        case "equalto", "eq", "==", "sameas": return value == (try argument())
        case "ne", "!=": return value != (try argument())
        case "in": return try Operations.contains(try argument(), value)
        case "odd", "even", "divisibleby":
            guard case .int(let n) = value else { throw EvaluationError("test '\(name)' needs an integer") }
            if name == "odd" { return n % 2 != 0 }
            if name == "even" { return n % 2 == 0 }
            guard case .int(let d) = try argument(), d != 0 else { throw EvaluationError("divisibleby needs a non-zero integer") }
            return n % d == 0
        case "lower", "upper":
            guard case .string(let s) = value else { return false }
            return name == "lower" ? s == s.lowercased() : s == s.uppercased()
        default:
            throw EvaluationError("unknown test '\(name)'")
        }
    }
}
