// Attribute and item access, slicing, iteration and the binary operators, with Python's rules.
import Foundation

enum Operations {
    static func undefinedError(_ value: JinjaValue) -> EvaluationError {
        if case .undefined(let name) = value { return EvaluationError("'\(name)' is undefined") }
        return EvaluationError("unsupported value")
    }

    /// `value.name`: a method, a dict key or a namespace attribute; missing ones are undefined.
    static func attribute(_ value: JinjaValue, _ name: String) throws -> JinjaValue {
        // groupby's (grouper, list) tuples, which Jinja gives as named tuples.
        if case .tuple(let items) = value, items.count == 2, name == "grouper" || name == "list" { return items[name == "grouper" ? 0 : 1] }
        switch value.plain {
        case .undefined:
            throw undefinedError(value)
        case .dict(let dict):
            if let method = Methods.dictionary(dict, name) { return method }
            return dict[name] ?? .undefined(name)
        case .string(let string):
            return Methods.string(string, name) ?? .undefined(name)
        case .namespace(let namespace):
            return namespace.attributes[name] ?? .undefined(name)
        case .array(let items):
            return Methods.list(items, name) ?? .undefined(name)
        default:
            return .undefined(name)
        }
    }

    /// `value[key]`: list and string indices (negative from the end) and dict keys.
    static func item(_ value: JinjaValue, _ key: JinjaValue) throws -> JinjaValue {
        switch (value.plain, key.plain) {
        case (.undefined, _):
            throw undefinedError(value)
        case (.array(let items), .int(let i)):
            let index = i < 0 ? items.count + i : i
            return items.indices.contains(index) ? items[index] : .undefined("[\(i)]")
        case (.string(let s), .int(let i)):
            let scalars = Array(s.unicodeScalars)
            let index = i < 0 ? scalars.count + i : i
            return scalars.indices.contains(index) ? .string(String(scalars[index])) : .undefined("[\(i)]")
        case (.dict(let dict), _):
            return dict[key.text] ?? .undefined(key.text)
        case (_, .string(let name)):
            return try attribute(value, name)
        default:
            return .undefined("[\(key.repr)]")
        }
    }

    /// Python slicing `value[start:stop:step]` of lists and strings.
    static func slice(_ value: JinjaValue, start: JinjaValue?, stop: JinjaValue?, step: JinjaValue?) throws -> JinjaValue {
        func int(_ v: JinjaValue?) throws -> Int? {
            guard let v, !(v == .none) else { return nil }
            guard case .int(let i) = v else { throw EvaluationError("slice indices must be integers") }
            return i
        }
        let stride = try int(step) ?? 1
        guard stride != 0 else { throw EvaluationError("slice step cannot be zero") }
        func indices(_ count: Int) throws -> [Int] {
            func clamp(_ i: Int?, _ fallback: Int) -> Int {
                guard var i else { return fallback }
                if i < 0 { i += count }
                return stride > 0 ? min(max(i, 0), count) : min(max(i, -1), count - 1)
            }
            let first = clamp(try int(start), stride > 0 ? 0 : count - 1)
            let last = clamp(try int(stop), stride > 0 ? count : -1)
            return Array(Swift.stride(from: first, to: last, by: stride))
        }
        switch value.plain {
        case .array(let items):
            return .array(try indices(items.count).map { items[$0] })
        case .string(let s):
            let scalars = Array(s.unicodeScalars)
            var view = String.UnicodeScalarView()
            for i in try indices(scalars.count) { view.append(scalars[i]) }
            return .string(String(view))
        case .undefined:
            throw undefinedError(value)
        default:
            throw EvaluationError("'\(value.typeName)' object cannot be sliced")
        }
    }

    static func iterate(_ value: JinjaValue) throws -> [JinjaValue] {
        switch value.plain {
        case .undefined: return []
        case .array(let items), .generator(let items): return items
        case .dict(let dict): return dict.keys.map(dict.key)
        case .string(let s): return s.unicodeScalars.map { .string(String($0)) }
        default: throw EvaluationError("'\(value.typeName)' object is not iterable")
        }
    }

    static func contains(_ container: JinjaValue, _ item: JinjaValue) throws -> Bool {
        switch container.plain {
        case .string(let s):
            guard case .string(let needle) = item.plain else { throw EvaluationError("'in <string>' requires a string") }
            return needle.isEmpty || s.contains(needle)
        case .array(let items), .generator(let items): return items.contains(item)
        case .dict(let dict): return dict[item.text] != nil
        case .undefined: return false
        default: throw EvaluationError("argument of type '\(container.typeName)' is not iterable")
        }
    }

    static func binary(_ op: String, _ a: JinjaValue, _ b: JinjaValue) throws -> JinjaValue {
        switch op {
        case "==": return .bool(a == b)
        case "!=": return .bool(a != b)
        case "in": return .bool(try contains(b, a))
        case "~": return .string(a.text + b.text)
        case "<", ">", "<=", ">=": return .bool(try compare(op, a, b))
        default: break
        }
        if a.isUndefined { throw undefinedError(a) }
        if b.isUndefined { throw undefinedError(b) }
        switch (op, a, b) {
        case ("+", .markup(let x), .string(let y)): return .markup(x + Filters.escaped(y))
        case ("+", .string(let x), .markup(let y)): return .markup(Filters.escaped(x) + y)
        case ("+", .markup(let x), .markup(let y)): return .markup(x + y)
        case ("+", .string(let x), .string(let y)): return .string(x + y)
        case ("+", .array(let x), .array(let y)): return .array(x + y)
        case ("*", .string(let s), .int(let n)), ("*", .int(let n), .string(let s)):
            try checkRepetition(s.utf8.count, n)
            return .string(String(repeating: s, count: max(0, n)))
        case ("*", .array(let items), .int(let n)):
            try checkRepetition(items.count * 16, n)
            return .array(Array([[JinjaValue]](repeating: items, count: max(0, n)).joined()))
        default: break
        }
        if case .int(let x) = a, case .int(let y) = b { return try integer(op, x, y) }
        guard let x = a.number, let y = b.number else {
            throw EvaluationError("unsupported operand types for \(op): '\(a.typeName)' and '\(b.typeName)'")
        }
        switch op {
        case "+": return .double(x + y)
        case "-": return .double(x - y)
        case "*": return .double(x * y)
        case "/":
            guard y != 0 else { throw EvaluationError("division by zero") }
            return .double(x / y)
        case "//":
            guard y != 0 else { throw EvaluationError("division by zero") }
            return .double((x / y).rounded(.down))
        case "%":
            guard y != 0 else { throw EvaluationError("modulo by zero") }
            return .double(x - y * (x / y).rounded(.down))
        case "**": return .double(pow(x, y))
        default: throw EvaluationError("unknown operator \(op)")
        }
    }

    /// Repeating a string or list may not build something larger than a template's whole output may be.
    private static func checkRepetition(_ size: Int, _ count: Int) throws {
        let (total, overflow) = size.multipliedReportingOverflow(by: max(0, count))
        guard !overflow, total <= RenderLimits().maxOutputBytes else { throw EvaluationError("repetition result is too large", isResourceLimit: true) }
    }

    private static func integer(_ op: String, _ x: Int, _ y: Int) throws -> JinjaValue {
        switch op {
        case "+": return .int(x &+ y)
        case "-": return .int(x &- y)
        case "*": return .int(x &* y)
        case "/":
            guard y != 0 else { throw EvaluationError("division by zero") }
            return .double(Double(x) / Double(y))
        case "//", "%":
            guard y != 0 else { throw EvaluationError("integer division or modulo by zero") }
            // Python rounds the quotient down, so the remainder takes the divisor's sign.
            var quotient = x / y
            if (x % y != 0) && ((x < 0) != (y < 0)) { quotient -= 1 }
            return .int(op == "//" ? quotient : x - quotient * y)
        case "**":
            if y < 0 || y > 64 { return .double(pow(Double(x), Double(y))) }
            return .int((0..<y).reduce(1) { acc, _ in acc &* x })
        default: throw EvaluationError("unknown operator \(op)")
        }
    }

    static func compare(_ op: String, _ a: JinjaValue, _ b: JinjaValue) throws -> Bool {
        let ordering: ComparisonResult
        if let x = a.number, let y = b.number {
            ordering = x < y ? .orderedAscending : x > y ? .orderedDescending : .orderedSame
        } else if case .string(let x) = a.plain, case .string(let y) = b.plain {
            ordering = x.unicodeScalars.lexicographicallyPrecedes(y.unicodeScalars) ? .orderedAscending : x == y ? .orderedSame : .orderedDescending
        } else if case .array(let x) = a.plain, case .array(let y) = b.plain {
            // Python compares lists and tuples item by item, then by length.
            for (p, q) in zip(x, y) where p != q { return try compare(op, p, q) }
            ordering = x.count < y.count ? .orderedAscending : x.count > y.count ? .orderedDescending : .orderedSame
        } else {
            throw EvaluationError("'\(op)' not supported between '\(a.typeName)' and '\(b.typeName)'")
        }
        switch op {
        case "<": return ordering == .orderedAscending
        case ">": return ordering == .orderedDescending
        case "<=": return ordering != .orderedDescending
        default: return ordering != .orderedAscending
        }
    }
}
