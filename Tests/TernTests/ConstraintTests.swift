// Constrained decoding: regexes agree with Python's re.fullmatch, JSON schema grammars accept only
// what jsonschema validates (and the canonical instances), token masks agree with walking each
// token's bytes, and generation under a constraint always ends inside it
// (fixtures: scripts/make_constraint_fixtures.py).
import Foundation
import Testing
import TernConstraints
@testable import TernEngine
import TernFormats
import TernTokenizer

struct ConstraintTests {
    static let noVocabulary = TokenVocabulary(tokenBytes: [], size: 0)

    static func matcher(_ grammar: Grammar) throws -> TokenConstraint {
        try TokenConstraint(grammar: grammar, vocabulary: noVocabulary, key: "test")
    }

    static func fixture(_ name: String) throws -> [JSONValue] {
        try JSONParser.parse(contentsOf: Fixtures.root.appendingPathComponent("constraints/\(name).json")).arrayValue ?? []
    }

    @Test func regexesMatchWhatPythonMatches() throws {
        let cases = try Self.fixture("regex")
        #expect(cases.count >= 15)
        for entry in cases {
            let pattern = entry["pattern"]!.stringValue!
            let constraint = try Self.matcher(Grammar(try RegexParser.expression(pattern)))
            for string in entry["strings"]!.arrayValue! {
                let text = string["text"]!.stringValue!, matches = string["matches"]!.boolValue!
                if string["exact"]!.boolValue! {
                    #expect(constraint.matches(text) == matches, "\(pattern) on \(text.debugDescription)")
                } else if constraint.matches(text) {
                    #expect(matches, "\(pattern) on \(text.debugDescription)")
                }
            }
        }
    }

    @Test func schemaGrammarsAcceptOnlyValidInstances() throws {
        let cases = try Self.fixture("json_schema")
        #expect(cases.count >= 20)
        for entry in cases {
            let schema = entry["schema"]!
            let constraint = try Self.matcher(try JSONSchemaGrammar.grammar(for: schema))
            for instance in entry["instances"]!.arrayValue! {
                let text = instance["text"]!.stringValue!
                let accepted = constraint.matches(text)
                if accepted { #expect(instance["valid"]!.boolValue!, "\(schema.serialized) accepted invalid \(text)") }
                if instance["canonical"]!.boolValue! { #expect(accepted, "\(schema.serialized) refused \(text)") }
            }
        }
    }

    @Test func integerRangesHoldExactlyTheirIntegers() throws {
        var random = SystemRandomNumberGenerator()
        for _ in 0..<25 {
            let low = Int.random(in: -2000...2000, using: &random)
            let high = low + Int.random(in: 0...3000, using: &random)
            let schema: JSONValue = ["type": "integer", "minimum": .int(low), "maximum": .int(high)]
            let constraint = try Self.matcher(try JSONSchemaGrammar.grammar(for: schema))
            for n in stride(from: low - 40, through: high + 40, by: max(1, (high - low) / 200)) {
                #expect(constraint.matches(String(n)) == (low...high).contains(n), "\(n) in \(low)...\(high)")
            }
            #expect(!constraint.matches("-0") && !constraint.matches("007"))
        }
    }

    @Test func unsupportedKeywordsAreNamed() throws {
        let cases: [(JSONValue, String)] = [
            (["type": "array", "items": ["type": "integer"], "uniqueItems": true], "uniqueItems"),
            (["type": "integer", "multipleOf": 3], "multipleOf"),
            (["oneOf": [["type": "integer"], ["type": "string"]]], "oneOf"),
            (["type": "object", "patternProperties": ["^a": ["type": "integer"]]], "patternProperties"),
            (["type": "string", "format": "hostname"], "format"),
            (["$ref": "https://example.com/schema.json"], "$ref"),
            (["type": "string", "pattern": "(a)\\1"], "pattern"),
            (["type": "string", "pattern": "(?=a)a"], "pattern"),
        ]
        for (schema, keyword) in cases {
            do {
                _ = try JSONSchemaGrammar.grammar(for: schema)
                Issue.record("\(schema.serialized) compiled")
            } catch let error as ConstraintError {
                #expect(error.keyword == keyword, "\(schema.serialized): \(error.message)")
            }
        }
    }

    @Test func gbnfGrammarsParseAndRefuseWhatTheyShould() throws {
        let source = """
        # arithmetic
        root ::= expr
        expr ::= term (("+" | "-") term)*
        term ::= [0-9]+ | "(" expr ")"
        """
        let constraint = try Self.matcher(try GBNFParser.grammar(source))
        for text in ["1", "12+3", "(1-2)+30", "((7))"] { #expect(constraint.matches(text), "\(text)") }
        for text in ["", "+1", "1+", "(1", "1)", "a"] { #expect(!constraint.matches(text), "\(text)") }
        let multiline = try Self.matcher(try GBNFParser.grammar("root ::= \"[\" (\n  item (\",\" item)*\n)? \"]\"\nitem ::= [^\\],]{1,3} | \"\\u00e9\""))
        #expect(multiline.matches("[ab,é,c]") && multiline.matches("[]") && !multiline.matches("[abcd]"))
        #expect(throws: ConstraintError.self) { try GBNFParser.grammar("root ::= missing") }
        #expect(throws: ConstraintError.self) { try GBNFParser.grammar("start ::= \"a\"") }
        #expect(throws: ConstraintError.self) { try Self.matcher(try GBNFParser.grammar("root ::= root \"a\" | \"b\"")) }
        // Counted repetitions are unrolled, so huge counts are refused rather than built.
        #expect(throws: ConstraintError.self) { try Self.matcher(try JSONSchemaGrammar.grammar(for: ["type": "string", "maxLength": 1_000_000_000])) }
    }

    /// Masks come from a pass over the byte-sorted vocabulary that skips refused prefixes; each
    /// token's own walk through the automaton must agree with it, on a real 151k-token vocabulary.
    @Test func masksAgreeWithWalkingEachToken() throws {
        let tokenizer = try Tokenizer.load(gguf: Fixtures.vocab.appendingPathComponent("ggml-vocab-qwen2.gguf").path)
        let size = tokenizer.vocabularySize
        let vocabulary = TokenVocabulary(tokenBytes: (0..<size).map { tokenizer.isSpecial($0) ? nil : tokenizer.bytes(ofToken: $0) }, size: size)
        let schema: JSONValue = ["type": "object", "properties": ["city": ["type": "string", "maxLength": 8], "n": ["type": "integer", "maximum": 250]],
                                 "required": ["city", "n"]]
        let constraint = try TokenConstraint(grammar: try JSONSchemaGrammar.grammar(for: schema), vocabulary: vocabulary, key: "mask test")
        var state = constraint.start
        for prefix in ["", "{\"city\": \"Par", "is\", \"n\": 2"] {
            for token in tokenizer.encode(prefix, addSpecialTokens: false) { state = try #require(constraint.advance(state, token: token)) }
            let mask = constraint.mask(at: state)
            #expect(mask.allowedCount > 0)
            for token in 0..<size {
                #expect(mask.contains(token) == (constraint.advance(state, token: token) != nil), "token \(token) after \(prefix.debugDescription)")
            }
        }
    }

    /// Random logits, so only the constraint keeps the text in shape; the sequence stops by itself
    /// when the structure is complete.
    @Test(arguments: ["schema", "regex", "choice"])
    func generationEndsInsideTheConstraint(kind: String) throws {
        let tokenizer = try Tokenizer.load(directory: Fixtures.model("qwen2-bpe"))
        let size = tokenizer.vocabularySize
        let vocabulary = TokenVocabulary(tokenBytes: (0..<size).map { tokenizer.isSpecial($0) ? nil : tokenizer.bytes(ofToken: $0) }, size: size)
        let spec: ConstraintSpec = switch kind {
        case "schema": .jsonSchema(["type": "object", "properties": ["ok": ["type": "boolean"], "list": ["type": "array", "items": ["enum": [1, "two"]], "maxItems": 3]],
                                    "required": ["ok", "list"]])
        case "regex": .regex("[a-z]{2,5}-[0-9]{1,3}")
        default: .choice(["alpha", "beta", "gamma delta"])
        }
        let constraint = try TokenConstraint(grammar: try spec.grammar(), vocabulary: vocabulary, key: kind)
        for seed in 0..<10 {
            var parameters = SamplingParameters()
            parameters.constraint = constraint
            parameters.maxTokens = 200
            parameters.seed = UInt64(seed)
            var state = SequenceState(prompt: [1], parameters: parameters, tokenizer: tokenizer, modelEndTokens: [0], maxLength: 400)
            var generator = SystemRandomNumberGenerator()
            var finish: FinishReason?
            while finish == nil {
                let logits = (0..<size).map { _ in Float.random(in: -4...4, using: &generator) }
                finish = state.accept(logits: logits).finishReason
            }
            #expect(finish == .stop, "\(kind) seed \(seed): \(state.text)")
            #expect(constraint.matches(state.text), "\(kind) seed \(seed): \(state.text.debugDescription)")
        }
    }

    @Test func forcedToolCallsParseBackInEveryFormat() throws {
        let function = CallableFunction(name: "weather", parameters: ["type": "object", "properties": ["city": ["type": "string"], "days": ["type": "integer"]],
                                                                      "required": ["city"]])
        let replies: [ToolCallFormat: String] = [
            .hermes: "<tool_call>\n{\"name\": \"weather\", \"arguments\": {\"city\": \"Paris\", \"days\": 2}}\n</tool_call>",
            .llama3JSON: "{\"name\": \"weather\", \"parameters\": {\"city\": \"Paris\", \"days\": 2}}",
            .mistral: "[{\"name\": \"weather\", \"arguments\": {\"city\": \"Paris\", \"days\": 2}}]",
            .chatglm3: "weather\n```python\ntool_call(city=\"Paris\", days=2)\n```",
        ]
        for format in ToolCallFormat.allCases {
            let constraint = try Self.matcher(try format.callsGrammar([function], parallel: false))
            let reply = try #require(replies[format])
            #expect(constraint.matches(reply), "\(format)")
            #expect(!constraint.matches(reply.replacingOccurrences(of: "Paris", with: "Paris\"")), "\(format)")
            let parsed = format.parse(format.forcedReplyPrefix + reply)
            #expect(parsed.calls == [ToolCall(name: "weather", arguments: "{\"city\":\"Paris\",\"days\":2}")], "\(format)")
        }
    }
}
