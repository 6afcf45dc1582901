// Jinja's filters over lists and dicts. Where Jinja returns a generator (select, reject, map,
// unique, items, batch, slice, reverse of a list) so do these: always true, no length, not JSON.
import Foundation

enum CollectionFilters {
    static func apply(_ name: String, _ value: JinjaValue, _ args: CallArguments, interpreter: JinjaInterpreter) throws -> JinjaValue {
        switch name {
        case "first":
            return try Operations.iterate(value).first ?? .undefined("No first item, sequence was empty.")
        case "last":
            if case .generator = value { throw EvaluationError("'generator' object is not reversible") }
            return try Operations.iterate(value).last ?? .undefined("No last item, sequence was empty.")
        case "list": return .array(try Operations.iterate(value))
        case "reverse":
            if case .string(let s) = value { return .string(String(String.UnicodeScalarView(s.unicodeScalars.reversed()))) }
            if case .generator(let items) = value { return .array(items.reversed()) }
            return .generator(try Operations.iterate(value).reversed())
        case "items":
            if value.isUndefined { return .generator([]) }
            guard case .dict(let dict) = value else { throw EvaluationError("Can only get item pairs from a mapping.") }
            return .generator(dict.keyValuePairs.map { .tuple([$0.0, $0.1]) })
        case "join":
            let separator = args.value(0, "d")?.text ?? ""
            let items = try Operations.iterate(value)
            let parts = try args.value(1, "attribute").map { attribute in try items.map { try Filters.path($0, attribute.text) } } ?? items
            return .string(parts.map(\.text).joined(separator: separator))
        case "unique": return .generator(try unique(try Operations.iterate(value), args))
        case "sort": return .array(try sort(try Operations.iterate(value), args))
        case "dictsort": return .array(try dictsort(value, args))
        case "map": return .generator(value.isTruthy ? try map(try Operations.iterate(value), args, interpreter: interpreter) : [])
        case "select", "reject", "selectattr", "rejectattr":
            // Jinja yields nothing for a false value (none, an empty list) instead of failing on it.
            return .generator(value.isTruthy ? try select(name, try Operations.iterate(value), args) : [])
        case "min", "max": return try extreme(name, try Operations.iterate(value), args)
        case "sum": return try sum(try Operations.iterate(value), args)
        case "groupby": return .array(try groupby(try Operations.iterate(value), args))
        case "batch": return .generator(try batch(try Operations.iterate(value), args))
        case "slice": return .generator(try slices(try Operations.iterate(value), args))
        case "random":
            let items = try Operations.iterate(value)
            return items.randomElement() ?? .undefined("No random item, sequence was empty.")
        default:
            throw EvaluationError("unknown filter '\(name)'")
        }
    }

    /// The key a filter sorts or compares by: an attribute path, strings lowercased unless case-sensitive.
    private static func key(_ value: JinjaValue, attribute: JinjaValue?, caseSensitive: Bool, fallback: JinjaValue? = nil) throws -> JinjaValue {
        var v = try attribute.map { try Filters.path(value, $0.text) } ?? value
        if v.isUndefined, let fallback { v = fallback }
        if !caseSensitive, case .string(let s) = v.plain { return .string(s.lowercased()) }
        return v
    }

    private static func sorted(_ keyed: [(JinjaValue, JinjaValue)], reverse: Bool) throws -> [JinjaValue] {
        var failure: Error?
        // Python's sort is stable, with reverse=True keeping equal items in their order too.
        let ordered = keyed.enumerated().sorted { a, b in
            do {
                if try Operations.compare("<", a.element.0, b.element.0) { return !reverse }
                if try Operations.compare("<", b.element.0, a.element.0) { return reverse }
                return a.offset < b.offset
            } catch {
                failure = error
                return false
            }
        }
        if let failure { throw failure }
        return ordered.map(\.element.1)
    }

    private static func unique(_ items: [JinjaValue], _ args: CallArguments) throws -> [JinjaValue] {
        let caseSensitive = args.value(0, "case_sensitive")?.isTruthy ?? false
        var seen: [JinjaValue] = [], out: [JinjaValue] = []
        for item in items {
            let k = try key(item, attribute: args.value(1, "attribute"), caseSensitive: caseSensitive)
            if !seen.contains(k) { seen.append(k); out.append(item) }
        }
        return out
    }

    private static func sort(_ items: [JinjaValue], _ args: CallArguments) throws -> [JinjaValue] {
        let caseSensitive = args.value(1, "case_sensitive")?.isTruthy ?? false
        let keyed = try items.map { (try key($0, attribute: args.value(2, "attribute"), caseSensitive: caseSensitive), $0) }
        return try sorted(keyed, reverse: args.value(0, "reverse")?.isTruthy ?? false)
    }

    /// (key, value) pairs of a dict sorted by key or by value.
    private static func dictsort(_ value: JinjaValue, _ args: CallArguments) throws -> [JinjaValue] {
        guard case .dict(let dict) = value else { throw EvaluationError("dictsort needs a mapping, got '\(value.typeName)'") }
        let caseSensitive = args.value(0, "case_sensitive")?.isTruthy ?? false
        let by = args.value(1, "by")?.text ?? "key"
        guard by == "key" || by == "value" else { throw EvaluationError("You can only sort by either \"key\" or \"value\"") }
        let keyed = try dict.keyValuePairs.map { pair -> (JinjaValue, JinjaValue) in
            let sortKey = by == "key" ? pair.0 : pair.1
            return (try key(sortKey, attribute: nil, caseSensitive: caseSensitive), .tuple([pair.0, pair.1]))
        }
        return try sorted(keyed, reverse: args.value(2, "reverse")?.isTruthy ?? false)
    }

    private static func map(_ items: [JinjaValue], _ args: CallArguments, interpreter: JinjaInterpreter) throws -> [JinjaValue] {
        if let attribute = args.named.first(where: { $0.0 == "attribute" })?.1 {
            let fallback = args.named.first { $0.0 == "default" }?.1
            return try items.map { item in
                let v = try Filters.path(item, attribute.text)
                return v.isUndefined ? (fallback ?? v) : v
            }
        }
        guard let filter = args.positional.first?.text else { throw EvaluationError("map needs a filter name or attribute=") }
        let rest = CallArguments(positional: Array(args.positional.dropFirst()), named: args.named)
        return try items.map { try Filters.apply(filter, $0, rest, interpreter: interpreter) }
    }

    private static func select(_ name: String, _ items: [JinjaValue], _ args: CallArguments) throws -> [JinjaValue] {
        let byAttribute = name.hasSuffix("attr")
        let keep = name.hasPrefix("select")
        var positional = args.positional
        if byAttribute, positional.isEmpty { throw EvaluationError("\(name) needs an attribute name") }
        let attribute = byAttribute ? positional.removeFirst().text : nil
        let test = positional.isEmpty ? nil : positional.removeFirst().text
        return try items.filter { item in
            let subject = try attribute.map { try Filters.path(item, $0) } ?? item
            let passes = try test.map { try TestFunctions.apply($0, subject, positional) } ?? subject.isTruthy
            return passes == keep
        }
    }

    private static func extreme(_ name: String, _ items: [JinjaValue], _ args: CallArguments) throws -> JinjaValue {
        guard !items.isEmpty else { return .undefined("No aggregated item, sequence was empty.") }
        let caseSensitive = args.value(0, "case_sensitive")?.isTruthy ?? false
        var best = items[0], bestKey = try key(best, attribute: args.value(1, "attribute"), caseSensitive: caseSensitive)
        for item in items.dropFirst() {
            let k = try key(item, attribute: args.value(1, "attribute"), caseSensitive: caseSensitive)
            // Python's min/max keep the first of equal items.
            if try Operations.compare(name == "min" ? "<" : ">", k, bestKey) { (best, bestKey) = (item, k) }
        }
        return best
    }

    private static func sum(_ items: [JinjaValue], _ args: CallArguments) throws -> JinjaValue {
        var total = args.value(1, "start") ?? .int(0)
        for item in items {
            total = try Operations.binary("+", total, try args.value(0, "attribute").map { try Filters.path(item, $0.text) } ?? item)
        }
        return total
    }

    /// Items sorted by an attribute and grouped by it: (grouper, list) tuples, which also answer
    /// `.grouper` and `.list` (Operations.attribute), as Jinja's group tuples do.
    private static func groupby(_ items: [JinjaValue], _ args: CallArguments) throws -> [JinjaValue] {
        guard let attribute = args.value(0, "attribute") else { throw EvaluationError("groupby needs an attribute") }
        let fallback = args.value(1, "default"), caseSensitive = args.value(2, "case_sensitive")?.isTruthy ?? false
        let keyed = try items.map { (try key($0, attribute: attribute, caseSensitive: caseSensitive, fallback: fallback), $0) }
        let ordered = try sorted(keyed, reverse: false)
        var groups: [(JinjaValue, [JinjaValue])] = []
        for item in ordered {
            let k = try key(item, attribute: attribute, caseSensitive: caseSensitive, fallback: fallback)
            if let last = groups.last, last.0 == k { groups[groups.count - 1].1.append(item) } else { groups.append((k, [item])) }
        }
        return try groups.map { group in
            // The grouper shown is the first item's own value, not its lowercased key.
            let shown = try key(group.1[0], attribute: attribute, caseSensitive: true, fallback: fallback)
            return .tuple([shown, .array(group.1)])
        }
    }

    private static func batch(_ items: [JinjaValue], _ args: CallArguments) throws -> [JinjaValue] {
        guard let size = Filters.integer(args.value(0, "linecount")), size > 0 else { throw EvaluationError("batch needs a positive line count") }
        let fill = args.value(1, "fill_with").flatMap { $0 == .none ? nil : $0 }
        return stride(from: 0, to: items.count, by: size).map { start in
            var chunk = Array(items[start..<min(start + size, items.count)])
            if let fill { chunk += Array(repeating: fill, count: size - chunk.count) }
            return .array(chunk)
        }
    }

    /// Jinja's slice filter: `count` columns, the first `items % count` of them one longer.
    private static func slices(_ items: [JinjaValue], _ args: CallArguments) throws -> [JinjaValue] {
        guard let count = Filters.integer(args.value(0, "slices")), count > 0 else { throw EvaluationError("slice needs a positive count") }
        let fill = args.value(1, "fill_with").flatMap { $0 == .none ? nil : $0 }
        let per = items.count / count, extra = items.count % count
        var offset = 0
        return (0..<count).map { number in
            let start = offset + number * per
            if number < extra { offset += 1 }
            var column = Array(items[start..<offset + (number + 1) * per])
            if let fill, number >= extra { column.append(fill) }
            return .array(column)
        }
    }
}
