// The structured-output fields of a request: OpenAI's response_format (json_object, json_schema)
// and vLLM's guided_json / guided_regex / guided_choice / guided_grammar and structured_outputs.
// At most one may constrain a request; each is compiled against the model's vocabulary here, so
// a schema the grammar cannot honour is a 400 naming the field and the keyword.
import TernConstraints
import TernEngine
import TernFormats

enum OutputConstraintRequest {
    /// What the request's fields ask the output to be, and the field that asked; nil when unconstrained.
    static func spec(_ fields: RequestFields) throws -> (spec: ConstraintSpec, field: String)? {
        var found: [(ConstraintSpec, String)] = []
        if let format = fields.value("response_format"), let spec = try responseFormat(format) { found.append((spec, "response_format")) }
        if let schema = fields.value("guided_json") { found.append((.jsonSchema(try schemaValue(schema, field: "guided_json")), "guided_json")) }
        if let pattern = fields.value("guided_regex") { found.append((.regex(try text(pattern, field: "guided_regex")), "guided_regex")) }
        if let choice = fields.value("guided_choice") { found.append((.choice(try options(choice, field: "guided_choice")), "guided_choice")) }
        if let grammar = fields.value("guided_grammar") { found.append((.grammar(try text(grammar, field: "guided_grammar")), "guided_grammar")) }
        if let structured = fields.value("structured_outputs") { found.append((try structuredOutputs(structured), "structured_outputs")) }
        if found.count > 1 {
            throw APIError.badRequest("only one of \(found.map { "'\($0.1)'" }.joined(separator: ", ")) may constrain a request", param: found[1].1)
        }
        return found.first
    }

    /// Compiles the constraint for the served model; a constraint that cannot be honoured is a 400.
    static func compile(_ spec: ConstraintSpec, field: String, server: ModelServer) throws -> TokenConstraint {
        do {
            return try server.loaded.structuredOutput.constraint(spec)
        } catch let error as ConstraintError {
            throw APIError.badRequest("'\(field)': \(error.message)", param: error.keyword.map { "\(field).\($0)" } ?? field)
        }
    }

    private static func responseFormat(_ value: JSONValue) throws -> ConstraintSpec? {
        guard let type = value["type"]?.stringValue else {
            throw APIError.badRequest("'response_format' must be an object with a 'type'", param: "response_format")
        }
        switch type {
        case "text": return nil
        case "json_object": return .jsonObject
        case "json_schema":
            guard let described = value["json_schema"]?.objectValue else {
                throw APIError.badRequest("'response_format' of type json_schema needs a 'json_schema' object", param: "response_format.json_schema")
            }
            if let strict = described["strict"], strict.boolValue == nil, !strict.isNull {
                throw APIError.badRequest("'response_format.json_schema.strict' must be a boolean", param: "response_format.json_schema.strict")
            }
            // Strict or not, the schema is enforced: a valid output is the only kind generated.
            return .jsonSchema(described["schema"] ?? .bool(true))
        default:
            throw APIError.badRequest("'response_format' type '\(type)' is not supported (text, json_object, json_schema)", param: "response_format.type")
        }
    }

    private static func structuredOutputs(_ value: JSONValue) throws -> ConstraintSpec {
        guard let object = value.objectValue else {
            throw APIError.badRequest("'structured_outputs' must be an object", param: "structured_outputs")
        }
        let kinds = object.keys.filter { object[$0]?.isNull == false }
        guard kinds.count == 1, let kind = kinds.first, let inner = object[kind] else {
            throw APIError.badRequest("'structured_outputs' must hold exactly one of json, regex, choice, grammar, json_object", param: "structured_outputs")
        }
        let field = "structured_outputs.\(kind)"
        switch kind {
        case "json": return .jsonSchema(try schemaValue(inner, field: field))
        case "regex": return .regex(try text(inner, field: field))
        case "choice": return .choice(try options(inner, field: field))
        case "grammar": return .grammar(try text(inner, field: field))
        case "json_object" where inner.boolValue == true: return .jsonObject
        default:
            throw APIError.badRequest("'\(field)' is not supported (json, regex, choice, grammar, json_object)", param: field)
        }
    }

    /// A schema given as an object (or true), or as its JSON text.
    private static func schemaValue(_ value: JSONValue, field: String) throws -> JSONValue {
        if let textual = value.stringValue {
            guard let parsed = try? JSONParser.parse(textual) else { throw APIError.badRequest("'\(field)' is not valid JSON", param: field) }
            return parsed
        }
        guard value.objectValue != nil || value.boolValue != nil else {
            throw APIError.badRequest("'\(field)' must be a JSON schema object", param: field)
        }
        return value
    }

    private static func text(_ value: JSONValue, field: String) throws -> String {
        guard let text = value.stringValue, !text.isEmpty else { throw APIError.badRequest("'\(field)' must be a non-empty string", param: field) }
        return text
    }

    private static func options(_ value: JSONValue, field: String) throws -> [String] {
        guard let list = value.arrayValue, !list.isEmpty, list.allSatisfy({ $0.stringValue?.isEmpty == false }) else {
            throw APIError.badRequest("'\(field)' must be a non-empty list of non-empty strings", param: field)
        }
        return list.compactMap(\.stringValue)
    }
}
