// What a request asks its output to be, before compiling: the shapes of OpenAI's response_format
// and vLLM's guided decoding, or a grammar built by the server itself (forced tool calls).
import TernFormats

public enum ConstraintSpec: Sendable {
    /// Any JSON object (response_format json_object).
    case jsonObject
    case jsonSchema(JSONValue)
    /// A regular expression the whole output matches.
    case regex(String)
    /// Exactly one of the strings.
    case choice([String])
    /// A GBNF grammar.
    case grammar(String)
    /// A grammar built by the caller; `key` names it uniquely for the cache.
    case built(key: String, Grammar)

    /// What identifies the compiled constraint in the cache.
    public var key: String {
        switch self {
        case .jsonObject: return "json_object"
        case .jsonSchema(let schema): return "json_schema:" + schema.serialized
        case .regex(let pattern): return "regex:" + pattern
        case .choice(let options): return "choice:" + JSONValue.array(options.map { .string($0) }).serialized
        case .grammar(let source): return "grammar:" + source
        case .built(let key, _): return "built:" + key
        }
    }

    public func grammar() throws -> Grammar {
        switch self {
        case .jsonObject: return try JSONSchemaGrammar.grammar(for: ["type": "object"])
        case .jsonSchema(let schema): return try JSONSchemaGrammar.grammar(for: schema)
        case .regex(let pattern): return Grammar(try RegexParser.expression(pattern))
        case .choice(let options):
            guard !options.isEmpty else { throw ConstraintError("a choice needs at least one option") }
            return Grammar(.choice(options.map { .literal($0) }))
        case .grammar(let source): return try GBNFParser.grammar(source)
        case .built(_, let grammar): return grammar
        }
    }
}
