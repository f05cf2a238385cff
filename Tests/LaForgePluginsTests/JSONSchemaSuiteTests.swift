import Foundation
import Testing
@testable import LaForgeTestSupport

@testable import LaForgeAudit
@testable import LaForgeCore
@testable import LaForgeGovernance
@testable import LaForgeIdentity
@testable import LaForgeJournal
@testable import LaForgePlugins
@testable import LaForgeSecrets

/// Runs the vendored JSON-Schema-Test-Suite files (draft 2020-12) for the keywords that
/// `JSONSchema` implements. A case is skipped only when its schema uses a keyword outside the
/// subset, i.e. `JSONSchema.init` throws `.unsupportedKeyword`.
@Suite("JSON Schema Test Suite (draft 2020-12)")
struct JSONSchemaSuiteTests {
    /// The number of cases passing today; raise it when support grows, never lower it.
    static let expectedPassCount = 480

    static let files = [
        "additionalProperties", "allOf", "anyOf", "boolean_schema", "const", "default", "defs",
        "enum", "exclusiveMaximum", "exclusiveMinimum", "items", "maxItems", "maxLength",
        "maximum", "minItems", "minLength", "minimum", "not", "oneOf", "pattern", "properties",
        "ref", "required", "type",
    ]

    @Test("every supported case passes")
    func suite() throws {
        var passed = 0
        var failed = 0
        var skipped = 0
        var skippedByKeyword: [String: Int] = [:]
        for file in Self.files {
            let document = try JSONParser.parse(
                try JSONFixtures.bytes("json-schema-test-suite/tests/draft2020-12/\(file).json"))
            for group in document.arrayValue ?? [] {
                let groupName = group["description"]?.stringValue ?? "?"
                let cases = group["tests"]?.arrayValue ?? []
                let schema: JSONSchema
                do {
                    schema = try JSONSchema(group["schema"] ?? .null)
                } catch {
                    if case .unsupportedKeyword(let keyword, _, _) = error {
                        skipped += cases.count
                        skippedByKeyword[keyword, default: 0] += cases.count
                    } else {
                        failed += cases.count
                        Issue.record("\(file) / \(groupName): schema rejected: \(error)")
                    }
                    continue
                }
                for testCase in cases {
                    let expected = testCase["valid"]?.boolValue ?? false
                    let violations = schema.validate(testCase["data"] ?? .null)
                    if violations.isEmpty == expected {
                        passed += 1
                    } else {
                        failed += 1
                        let caseName = testCase["description"]?.stringValue ?? "?"
                        Issue.record(
                            "\(file) / \(groupName) / \(caseName): expected valid=\(expected), got \(violations)")
                    }
                }
            }
        }
        print("JSON Schema Test Suite: \(passed) passed, \(failed) failed, \(skipped) skipped")
        let reasons = skippedByKeyword.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
        print("Skipped for unsupported keywords: " + reasons.joined(separator: ", "))
        #expect(failed == 0)
        #expect(passed >= Self.expectedPassCount)
    }
}
