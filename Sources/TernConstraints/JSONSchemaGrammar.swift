// JSON schemas as grammars: every text the grammar produces parses as JSON and validates against
// the schema. Keywords that only describe (title, description, examples, ...) are skipped; a
// keyword that would constrain the value but that the grammar cannot honour is refused with
// its name, never dropped. Where a keyword's full language is not expressible, a subset that
// always validates is produced (declared properties only, fractions only where every value with
// that integer part is in bounds, conservative date days).
import TernFormats

public enum JSONSchemaGrammar {
    /// The grammar of JSON texts valid under `schema` (`true`/`{}`: any JSON value).
    public static func grammar(for schema: JSONValue, syntax: JSONSyntax = .json) throws -> Grammar {
        var rules: [String: GrammarExpression] = [:]
        rules["root"] = try expression(for: schema, syntax: syntax, namespace: "", into: &rules)
        return Grammar(rules: rules, root: "root")
    }

    /// The expression of `schema`'s values, its rules added to `rules` under names starting with
    /// `namespace` (several schemas can share one grammar).
    public static func expression(for schema: JSONValue, syntax: JSONSyntax = .json, namespace: String,
                                  into rules: inout [String: GrammarExpression]) throws -> GrammarExpression {
        var compiler = SchemaCompiler(root: schema, syntax: syntax, namespace: namespace)
        let expression = try compiler.value(schema, path: "#")
        rules.merge(compiler.rules) { first, _ in first }
        return expression
    }

    /// An object schema's members as Python keyword arguments, `a="x", b=2` (ChatGLM3's tool calls).
    public static func keywordArguments(for schema: JSONValue, namespace: String,
                                        into rules: inout [String: GrammarExpression]) throws -> GrammarExpression {
        var compiler = SchemaCompiler(root: schema, syntax: .python, namespace: namespace)
        let expression = try compiler.members(schema, path: "#", style: .keywordArguments)
        rules.merge(compiler.rules) { first, _ in first }
        return expression
    }
}

struct SchemaCompiler {
    let root: JSONValue
    let syntax: JSONSyntax
    var rules: [String: GrammarExpression] = [:]
    private var referenceNames: [String: String] = [:]
    private var ruleCount = 0
    private let namespace: String

    init(root: JSONValue, syntax: JSONSyntax, namespace: String = "") {
        self.root = root
        self.syntax = syntax
        self.namespace = namespace
    }

    enum MemberStyle { case jsonObject, keywordArguments }

    /// Keywords that describe a schema without constraining values.
    private static let annotations: Set<String> = [
        "title", "description", "default", "examples", "$schema", "$id", "$comment", "deprecated", "readOnly", "writeOnly",
        "$defs", "definitions", "discriminator",
    ]
    private static let honoured: Set<String> = [
        "type", "enum", "const", "anyOf", "allOf", "$ref", "nullable",
        "properties", "required", "additionalProperties", "minProperties", "maxProperties",
        "items", "prefixItems", "minItems", "maxItems",
        "minLength", "maxLength", "pattern", "format",
        "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
    ]

    mutating func value(_ schema: JSONValue, path: String) throws -> GrammarExpression {
        if schema == .bool(true) { return syntax.anyValue(into: &rules) }
        if schema == .bool(false) { throw ConstraintError("the schema at \(path) is false: no value is valid") }
        guard let object = schema.objectValue else { throw ConstraintError("the schema at \(path) is not an object") }
        for key in object.keys where !Self.annotations.contains(key) && !Self.honoured.contains(key) {
            throw ConstraintError.unsupported(key, "the grammar cannot enforce it (at \(path))")
        }
        if object["nullable"]?.boolValue == true {
            var rest = object
            rest["nullable"] = nil
            return .choice([try value(.object(rest), path: path), .literal(syntax.nullLiteral)])
        }
        if let reference = object["$ref"] {
            try requireAlone(object, "$ref", path: path)
            return try resolve(reference, path: path)
        }
        if let options = object["anyOf"] {
            try requireAlone(object, "anyOf", path: path)
            guard let list = options.arrayValue, !list.isEmpty else { throw ConstraintError("anyOf at \(path) must be a non-empty list", keyword: "anyOf") }
            return .choice(try list.enumerated().map { try value($1, path: "\(path)/anyOf/\($0)") })
        }
        if let all = object["allOf"] {
            try requireAlone(object, "allOf", path: path)
            guard let list = all.arrayValue, list.count == 1 else {
                throw ConstraintError.unsupported("allOf", "only a single-schema allOf can be enforced (at \(path))")
            }
            return try value(list[0], path: "\(path)/allOf/0")
        }
        if let constant = object["const"] { return syntax.literal(of: constant) }
        if let values = object["enum"] {
            guard let list = values.arrayValue, !list.isEmpty else { throw ConstraintError("enum at \(path) must be a non-empty list", keyword: "enum") }
            return .choice(list.map { syntax.literal(of: $0) })
        }
        let types: [String]
        switch object["type"] {
        case .string(let name)?: types = [name]
        case .array(let names)?: types = names.compactMap(\.stringValue)
        case nil: types = Self.impliedTypes(object)
        default: throw ConstraintError("'type' at \(path) must be a string or a list of strings", keyword: "type")
        }
        if types.isEmpty { return syntax.anyValue(into: &rules) }
        let options = try types.map { try typed($0, object, path: path) }
        return options.count == 1 ? options[0] : .choice(options)
    }

    private static func impliedTypes(_ object: JSONObject) -> [String] {
        if ["properties", "required", "additionalProperties"].contains(where: { object[$0] != nil }) { return ["object"] }
        if object["items"] != nil || object["prefixItems"] != nil { return ["array"] }
        return []
    }

    private func requireAlone(_ object: JSONObject, _ keyword: String, path: String) throws {
        if let other = object.keys.first(where: { $0 != keyword && !Self.annotations.contains($0) }) {
            throw ConstraintError.unsupported(other, "'\(other)' next to '\(keyword)' at \(path) is not supported; move it into the \(keyword) branches")
        }
    }

    private mutating func typed(_ type: String, _ object: JSONObject, path: String) throws -> GrammarExpression {
        switch type {
        case "object":
            return .sequence([.literal("{"), try members(.object(object), path: path, style: .jsonObject), .literal("}")])
        case "array": return try array(object, path: path)
        case "string": return try string(object, path: path)
        case "integer": return try integer(object, path: path)
        case "number": return try number(object, path: path)
        case "boolean": return .choice([.literal(syntax.trueLiteral), .literal(syntax.falseLiteral)])
        case "null": return .literal(syntax.nullLiteral)
        default: throw ConstraintError("unknown type '\(type)' at \(path)", keyword: "type")
        }
    }

    // MARK: References

    private mutating func resolve(_ reference: JSONValue, path: String) throws -> GrammarExpression {
        guard let pointer = reference.stringValue, pointer.hasPrefix("#") else {
            throw ConstraintError.unsupported("$ref", "only references inside the schema (#/...) are supported (at \(path))")
        }
        if let name = referenceNames[pointer] { return .reference(name) }
        var target = root
        for part in pointer.dropFirst().split(separator: "/", omittingEmptySubsequences: true) {
            let key = part.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
            if let index = Int(key), let items = target.arrayValue, index < items.count { target = items[index]; continue }
            guard let next = target[key] else { throw ConstraintError("$ref '\(pointer)' at \(path) points nowhere", keyword: "$ref") }
            target = next
        }
        let name = newRuleName("ref")
        referenceNames[pointer] = name
        rules[name] = try value(target, path: pointer)
        return .reference(name)
    }

    private mutating func newRuleName(_ kind: String) -> String {
        ruleCount += 1
        return "\(namespace)\(kind)-\(ruleCount)"
    }

    /// `expression` as a rule of its own, so repeating it does not copy it.
    private mutating func named(_ expression: GrammarExpression, _ kind: String) -> GrammarExpression {
        if case .reference = expression { return expression }
        let name = newRuleName(kind)
        rules[name] = expression
        return .reference(name)
    }

    // MARK: Objects

    /// The members between an object's braces (or a call's parentheses): the declared properties in
    /// order, required ones always, optional ones maybe, or any members where the schema allows any.
    mutating func members(_ schema: JSONValue, path: String, style: MemberStyle) throws -> GrammarExpression {
        let object = schema.objectValue ?? JSONObject()
        let properties = object["properties"]?.objectValue ?? JSONObject()
        let required = Set((object["required"]?.arrayValue ?? []).compactMap(\.stringValue))
        let additional = object["additionalProperties"] ?? .bool(true)
        var declared = properties.pairs.map { (key: $0.key, schema: $0.value, required: required.contains($0.key)) }
        for key in required.sorted() where properties[key] == nil {
            guard additional != .bool(false) else {
                throw ConstraintError("'\(key)' is required at \(path) but additionalProperties is false", keyword: "required")
            }
            declared.append((key, additional, true))
        }
        let requiredCount = declared.filter(\.required).count
        if let least = object["minProperties"]?.intValue, least > requiredCount, !(declared.isEmpty && additional != .bool(false)) {
            throw ConstraintError.unsupported("minProperties", "more properties than the required ones cannot be enforced (at \(path))")
        }
        let separator = GrammarExpression.sequence([.literal(","), JSONSyntax.separatorSpace])
        if declared.isEmpty {
            // No declared properties: any members whose values fit additionalProperties.
            if additional == .bool(false) { return .empty }
            guard style == .jsonObject else { return .empty }
            if let most = object["maxProperties"]?.intValue, most == 0 { return .empty }
            let valueExpression = named(try value(additional, path: "\(path)/additionalProperties"), "value")
            let member = GrammarExpression.sequence([syntax.string(), .literal(":"), JSONSyntax.separatorSpace, valueExpression])
            let least = object["minProperties"]?.intValue ?? 0
            let most = object["maxProperties"]?.intValue
            return .repeatedList(member, separator: separator, min: least, max: most)
        }
        if let most = object["maxProperties"]?.intValue, most < declared.count {
            throw ConstraintError.unsupported("maxProperties", "fewer properties than declared cannot be enforced (at \(path))")
        }
        var items: [(member: GrammarExpression, required: Bool)] = []
        for property in declared {
            let valueExpression = try value(property.schema, path: "\(path)/properties/\(property.key)")
            let key: GrammarExpression = style == .jsonObject
                ? .sequence([.literal(JSONValue.quoted(property.key)), .literal(":"), JSONSyntax.separatorSpace])
                : .literal("\(property.key)=")
            items.append((.sequence([key, valueExpression]), property.required))
        }
        // Rules from the back: after[i] follows a member already written, first[i] opens the list.
        var after = GrammarExpression.empty
        var first = GrammarExpression.empty
        for (member, isRequired) in items.reversed() {
            let afterName = newRuleName("members"), firstName = newRuleName("members")
            rules[afterName] = isRequired ? .sequence([separator, member, after]) : .choice([.sequence([separator, member, after]), after])
            rules[firstName] = isRequired ? .sequence([member, after]) : .choice([.sequence([member, after]), first])
            after = .reference(afterName)
            first = .reference(firstName)
        }
        return first
    }

    // MARK: Arrays

    private mutating func array(_ object: JSONObject, path: String) throws -> GrammarExpression {
        let least = object["minItems"]?.intValue ?? 0
        let most = object["maxItems"]?.intValue
        if let most, most < least { throw ConstraintError("maxItems is below minItems at \(path)", keyword: "maxItems") }
        let separator = GrammarExpression.sequence([.literal(","), JSONSyntax.separatorSpace])
        let prefix = try (object["prefixItems"]?.arrayValue ?? []).enumerated().map { try value($1, path: "\(path)/prefixItems/\($0)") }
        if let most, most < prefix.count {
            throw ConstraintError.unsupported("maxItems", "maxItems below the number of prefixItems at \(path)")
        }
        let itemsSchema = object["items"] ?? (prefix.isEmpty ? .bool(true) : .bool(false))
        var body: [GrammarExpression] = []
        for (index, item) in prefix.enumerated() { body += index == 0 ? [item] : [separator, item] }
        if itemsSchema != .bool(false) {
            let item = named(try value(itemsSchema, path: "\(path)/items"), "item")
            let extraLeast = max(0, least - prefix.count)
            let extraMost = most.map { $0 - prefix.count }
            if prefix.isEmpty {
                body.append(.repeatedList(item, separator: separator, min: extraLeast, max: extraMost))
            } else {
                body.append(.repeated(.sequence([separator, item]), min: extraLeast, max: extraMost))
            }
        } else if least > prefix.count {
            throw ConstraintError.unsupported("minItems", "minItems above the number of prefixItems with items false at \(path)")
        }
        return .sequence([.literal("[")] + body + [.literal("]")])
    }

    // MARK: Strings and numbers

    private func string(_ object: JSONObject, path: String) throws -> GrammarExpression {
        let least = object["minLength"]?.intValue ?? 0
        let most = object["maxLength"]?.intValue
        if let most, most < least { throw ConstraintError("maxLength is below minLength at \(path)", keyword: "maxLength") }
        let bounded = object["minLength"] != nil || object["maxLength"] != nil
        if let pattern = object["pattern"] {
            guard let text = pattern.stringValue else { throw ConstraintError("pattern at \(path) must be a string", keyword: "pattern") }
            if bounded { throw ConstraintError.unsupported("minLength", "length limits together with a pattern are not supported (at \(path)); put the length in the pattern") }
            if object["format"] != nil { throw ConstraintError.unsupported("format", "format together with a pattern is not supported (at \(path))") }
            return .sequence([.literal("\""), try RegexParser.expression(text, target: .jsonString), .literal("\"")])
        }
        if let format = object["format"] {
            guard let name = format.stringValue, let regex = Self.formats[name] else {
                throw ConstraintError.unsupported("format", "format '\(format.stringValue ?? format.serialized)' is not supported (at \(path)); supported: \(Self.formats.keys.sorted().joined(separator: ", "))")
            }
            if bounded { throw ConstraintError.unsupported("minLength", "length limits together with a format are not supported (at \(path))") }
            return .sequence([.literal("\""), try RegexParser.expression(regex, target: .jsonString), .literal("\"")])
        }
        return syntax.string(minLength: least, maxLength: most)
    }

    /// String formats as patterns whose every match passes the format's check.
    private static let formats: [String: String] = {
        let date = "[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])"
        let time = "([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\.[0-9]{1,6})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])"
        let octet = "(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
        return [
            "date": date,
            "time": time,
            "date-time": date + "T" + time,
            "uuid": "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
            "ipv4": octet + "(\\." + octet + "){3}",
            // Shorter than RFC 5321 allows, so a model cannot ramble inside an address.
            "email": "[a-zA-Z0-9._%+-]{1,32}@[a-zA-Z0-9-]{1,32}(\\.[a-zA-Z0-9-]{1,16}){0,2}\\.[a-zA-Z]{2,8}",
        ]
    }()

    private struct Bounds {
        var minimum: Double?, exclusiveMinimum = false, maximum: Double?, exclusiveMaximum = false
    }

    /// minimum/maximum, with exclusiveMinimum/Maximum as numbers (2019+) or booleans (draft 4).
    private func bounds(_ object: JSONObject, path: String) throws -> Bounds {
        var bounds = Bounds(minimum: object["minimum"]?.doubleValue, maximum: object["maximum"]?.doubleValue)
        switch object["exclusiveMinimum"] {
        case .bool(let flag)?: bounds.exclusiveMinimum = flag
        case let value?:
            guard let number = value.doubleValue else { throw ConstraintError("exclusiveMinimum at \(path) must be a number", keyword: "exclusiveMinimum") }
            if bounds.minimum.map({ number >= $0 }) ?? true { bounds.minimum = number; bounds.exclusiveMinimum = true }
        case nil: break
        }
        switch object["exclusiveMaximum"] {
        case .bool(let flag)?: bounds.exclusiveMaximum = flag
        case let value?:
            guard let number = value.doubleValue else { throw ConstraintError("exclusiveMaximum at \(path) must be a number", keyword: "exclusiveMaximum") }
            if bounds.maximum.map({ number <= $0 }) ?? true { bounds.maximum = number; bounds.exclusiveMaximum = true }
        case nil: break
        }
        for limit in [bounds.minimum, bounds.maximum].compactMap({ $0 }) where abs(limit) > 1e15 {
            throw ConstraintError.unsupported(limit == bounds.minimum ? "minimum" : "maximum", "bounds beyond 1e15 are not supported (at \(path))")
        }
        if let low = bounds.minimum, let high = bounds.maximum, low > high {
            throw ConstraintError("minimum is above maximum at \(path): no number is valid", keyword: "minimum")
        }
        return bounds
    }

    private func integer(_ object: JSONObject, path: String) throws -> GrammarExpression {
        let b = try bounds(object, path: path)
        let low = b.minimum.map { b.exclusiveMinimum ? Int(($0 + 1).rounded(.down)) : Int($0.rounded(.up)) }
        let high = b.maximum.map { b.exclusiveMaximum ? Int(($0 - 1).rounded(.up)) : Int($0.rounded(.down)) }
        if let low, let high, low > high { throw ConstraintError("no integer lies within the bounds at \(path)", keyword: "minimum") }
        return NumberGrammar.integers(from: low, to: high)
    }

    private func number(_ object: JSONObject, path: String) throws -> GrammarExpression {
        let b = try bounds(object, path: path)
        if b.minimum == nil && b.maximum == nil { return syntax.number }
        return NumberGrammar.decimals(minimum: b.minimum, exclusiveMinimum: b.exclusiveMinimum, maximum: b.maximum, exclusiveMaximum: b.exclusiveMaximum)
    }
}

extension GrammarExpression {
    /// `item` `min`...`max` times with `separator` between them.
    static func repeatedList(_ item: GrammarExpression, separator: GrammarExpression, min: Int, max: Int?) -> GrammarExpression {
        if max == 0 { return .empty }
        let list = GrammarExpression.sequence([item, .repeated(.sequence([separator, item]), min: Swift.max(min - 1, 0), max: max.map { $0 - 1 })])
        return min == 0 ? .optional(list) : list
    }
}
