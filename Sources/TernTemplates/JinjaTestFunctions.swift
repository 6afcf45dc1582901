// Jinja tests (`x is defined`, `x is string`, `n is divisibleby 3`, ...), resolved when they run.

enum TestFunctions {
    static let known: Set<String> = [
        "boolean", "callable", "defined", "divisibleby", "eq", "equalto", "escaped", "even", "false", "filter", "float", "ge", "gt",
        "greaterthan", "in", "integer", "iterable", "le", "lessthan", "lower", "lt", "mapping", "ne", "none", "number", "odd", "sameas",
        "sequence", "string", "test", "true", "undefined", "upper", "==", "!=", "<", "<=", ">", ">=",
    ]

    static func apply(_ name: String, _ value: JinjaValue, _ args: [JinjaValue]) throws -> Bool {
        func argument() throws -> JinjaValue {
            guard let first = args.first else { throw EvaluationError("test '\(name)' needs an argument") }
            return first
        }
        if name == "escaped" { if case .markup = value { return true } else { return false } }
        let value = value.plain
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
        case "mapping": if case .dict = value { return true } else { return false }
        case "iterable", "sequence":
            switch value {
            case .array, .dict, .string: return true
            case .generator: return name == "iterable"
            default: return false
            }
        case "filter": return Filters.known.contains(value.text)
        case "test": return known.contains(value.text)
        case "lt", "lessthan", "<": return try Operations.compare("<", value, try argument())
        case "le", "<=": return try Operations.compare("<=", value, try argument())
        case "gt", "greaterthan", ">": return try Operations.compare(">", value, try argument())
        case "ge", ">=": return try Operations.compare(">=", value, try argument())
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
            // Python's str.islower() / isupper() of the value's text: some cased letter, all of one case.
            let cased = value.text.unicodeScalars.filter { $0.properties.isLowercase || $0.properties.isUppercase }
            return !cased.isEmpty && cased.allSatisfy { name == "lower" ? $0.properties.isLowercase : $0.properties.isUppercase }
        default:
            throw EvaluationError("unknown test '\(name)'")
        }
    }
}
