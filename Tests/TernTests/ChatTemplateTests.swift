// Chat templates rendered by Tern's Jinja interpreter against Python jinja2 as transformers configures it.
import Foundation
import Testing
import TernFormats
@testable import TernTemplates

@Suite struct ChatTemplateReferenceTests {
    static let directory = Fixtures.root.appendingPathComponent("templates")

    static func expected() throws -> JSONValue {
        try JSONParser.parse(contentsOf: directory.appendingPathComponent("expected.json"))
    }

    /// Every template in the fixture folder: real models' templates and our own constructs.jinja.
    static let names: [String] = ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [])
        .filter { $0.hasSuffix(".jinja") }.map { String($0.dropLast(6)) }.sorted()

    /// The day strftime_now answers in the fixtures.
    static let fixedNow: Date = {
        var components = DateComponents()
        (components.year, components.month, components.day, components.hour, components.minute) = (2026, 7, 26, 9, 30)
        return Calendar.current.date(from: components)!
    }()

    @Test func theSweepCoversTheFamiliesTernServes() {
        #expect(Self.names.count >= 75)
        for family in ["llama2", "meta-llama-Llama-3.1-8B-Instruct", "Qwen-Qwen2.5-7B-Instruct", "Qwen-Qwen3-0.6B", "chatglm3", "GLM-4.6", "baichuan2", "yi",
                       "mistral", "google-gemma-2-2b-it", "deepseek-ai-DeepSeek-V3.1", "microsoft-Phi-3.5-mini-instruct",
                       "CohereForAI-c4ai-command-r-plus-tool_use", "NousResearch-Hermes-3-Llama-3.1-8B-tool_use", "meetkai-functionary-medium-v3.2"] {
            #expect(Self.names.contains(family), "\(family)")
        }
    }

    /// Where two renders part, with a little of each around it.
    static func firstDifference(_ got: String, _ want: String) -> String {
        let a = Array(got.unicodeScalars), b = Array(want.unicodeScalars)
        let at = (0..<min(a.count, b.count)).first { a[$0] != b[$0] } ?? min(a.count, b.count)
        func around(_ s: [Unicode.Scalar]) -> String { String(String.UnicodeScalarView(s[max(0, at - 40)..<min(s.count, at + 40)])).debugDescription }
        return "first difference at scalar \(at): got \(around(a)), want \(around(b))"
    }

    /// Byte-identical output wherever jinja2 renders; where it fails, so do we (with the template's
    /// own message when it raised one).
    @Test(arguments: names)
    func rendersLikeJinja2(template name: String) throws {
        let expected = try Self.expected()
        let source = try String(contentsOf: Self.directory.appendingPathComponent("\(name).jinja"), encoding: .utf8)
        var special: [String: String] = [:]
        for (key, value) in expected["special_tokens"]!.objectValue!.pairs { special[key] = value.stringValue }
        let template = try ChatTemplate(source: source, specialTokens: special)
        let cases = expected["cases"]!.arrayValue!.filter { $0["template"]?.stringValue == name }
        #expect(cases.count == 2 * expected["conversations"]!.objectValue!.pairs.count)
        for testCase in cases {
            let conversation = expected["conversations"]![testCase["conversation"]!.stringValue!]!
            let label = "\(name)/\(testCase["conversation"]!.stringValue!)/\(testCase["add_generation_prompt"]!.boolValue!)"
            let render = {
                try template.render(messages: conversation["messages"]!.arrayValue!,
                                    addGenerationPrompt: testCase["add_generation_prompt"]!.boolValue!,
                                    tools: conversation["tools"]?.arrayValue, now: Self.fixedNow)
            }
            if let message = testCase["error"]?.stringValue {
                do {
                    let output = try render()
                    Issue.record("\(label): jinja2 fails (\(message)) but we rendered \(output.prefix(200))")
                } catch let error as TemplateError {
                    if testCase["raised"]?.boolValue == true { #expect(error.message.contains(message), "\(label): \(error)") }
                }
            } else {
                do {
                    let output = try render(), want = testCase["output"]!.stringValue!
                    #expect(output == want, "\(label): \(Self.firstDifference(output, want))")
                } catch {
                    Issue.record("\(label): \(error)")
                }
            }
        }
    }
}

@Suite struct JinjaErrorTests {
    static func error(_ source: String, limits: RenderLimits = RenderLimits()) -> TemplateError? {
        do {
            _ = try JinjaTemplate(source).render([:], limits: limits)
            return nil
        } catch let error as TemplateError {
            return error
        } catch {
            Issue.record("unexpected error type: \(error)")
            return nil
        }
    }

    @Test func unclosedBlockNamesItsPlace() throws {
        let error = try #require(Self.error("line one\n{% if x %}\nno end"))
        #expect(error.message.contains("endif"))
        #expect(error.line == 3)
    }

    @Test func unknownFilterNamesLineAndColumn() throws {
        let error = try #require(Self.error("ok\n  {{ name | frobnicate }}"))
        #expect(error.message == "unknown filter 'frobnicate'")
        #expect(error.line == 2 && error.column == 13)
    }

    @Test func raiseExceptionCarriesTheTemplatesMessage() throws {
        let error = try #require(Self.error("{% if true %}\n{{ raise_exception('roles must alternate') }}{% endif %}"))
        #expect(error.message.contains("roles must alternate"))
        #expect(error.line == 2)
    }

    @Test func undefinedAttributeIsAnError() throws {
        let error = try #require(Self.error("{{ missing.attr }}"))
        #expect(error.message == "'missing' is undefined")
    }

    @Test func runawayLoopsStop() throws {
        var limits = RenderLimits()
        limits.maxLoopIterations = 10_000
        let error = try #require(Self.error("{% for a in range(200) %}{% for b in range(200) %}{% endfor %}{% endfor %}", limits: limits))
        #expect(Self.error("{{ 'x' * 1000000000 }}")?.message.contains("too large") == true)
        #expect(Self.error("{{ range(100000000) | length }}")?.message.contains("too large") == true)
        #expect(error.message.contains("loop iterations"))
        let recursion = try #require(Self.error("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}"))
        #expect(recursion.message.contains("nested deeper"))
    }

    @Test func doublingStringsAndListsStopAtTheSizeLimits() throws {
        var limits = RenderLimits()
        limits.maxStringBytes = 1 << 20
        limits.maxCollectionItems = 10_000
        let strings = try #require(Self.error(
            "{% set ns = namespace(s='x') %}{% for i in range(33) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s | length }}", limits: limits))
        #expect(strings.isResourceLimit && strings.message.contains("string grew longer"))
        let lists = try #require(Self.error(
            "{% set ns = namespace(l=[1]) %}{% for i in range(40) %}{% set ns.l = ns.l + ns.l %}{% endfor %}{{ ns.l | length }}", limits: limits))
        #expect(lists.isResourceLimit && lists.message.contains("list grew longer"))
        // Under the limits the same construct renders as jinja2 would.
        #expect(try JinjaTemplate("{% set ns = namespace(s='x') %}{% for i in range(10) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s | length }}")
            .render([:], limits: limits) == "1024")
    }

    @Test func slowTemplatesStopAtTheTimeLimit() throws {
        var limits = RenderLimits()
        limits.maxSeconds = 0.2
        let started = Date()
        let error = try #require(Self.error(
            "{% for a in range(100000) %}{{ 'abc' | replace('b', 'c') | upper | lower }}{% endfor %}", limits: limits))
        #expect(error.isResourceLimit && error.message.contains("longer than 0.2 seconds"))
        #expect(Date().timeIntervalSince(started) < 2)
    }

    @Test(arguments: ["{{ }}", "{% for %}", "{% endfor %}", "{{ 'unterminated }}", "{% set = 1 %}", "{{ a b }}", "{% unknown %}", "{# never closed"])
    func malformedTemplatesAreErrors(source: String) {
        #expect(Self.error(source) != nil, "\(source)")
    }

    @Test func strftimeNowFormatsTheCurrentDate() throws {
        let year = Calendar.current.component(.year, from: Date())
        #expect(try JinjaTemplate("{{ strftime_now('%Y') }}").render([:]) == String(year))
    }
}

@Suite struct JinjaLimitTests {
    @Test(arguments: [
        String(repeating: "(", count: 5000) + "1" + String(repeating: ")", count: 5000),
        String(repeating: "1 + ", count: 50000) + "1",
        String(repeating: "x.", count: 50000) + "y",
        String(repeating: "not ", count: 50000) + "x",
        String(repeating: "-", count: 50000) + "1",
        "x" + String(repeating: " | upper", count: 50000),
    ])
    func pathologicalExpressionsAreErrorsNotCrashes(expression: String) {
        #expect(throws: TemplateError.self) { try JinjaTemplate("{{ \(expression) }}") }
    }

    @Test func deeplyNestedBlocksAreErrors() {
        let source = String(repeating: "{% if true %}", count: 5000) + String(repeating: "{% endif %}", count: 5000)
        #expect(throws: TemplateError.self) { try JinjaTemplate(source) }
    }
}
