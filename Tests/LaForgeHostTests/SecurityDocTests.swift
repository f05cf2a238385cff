import Foundation
import Testing
@testable import LaForgeTestSupport

/// docs/SECURITY.md names, for every guarantee, the tests that show it. A renamed or deleted test
/// would leave a row claiming evidence that no longer exists, so every `Suite/test()` it names
/// must be a test function of that suite, and every guarantee row must name at least one.
@Suite struct SecurityDocTests {
    static let root = CPluginBuilder.packageRoot

    /// `Suite/test()` references in the text, in order.
    static func references(in text: String) -> [(suite: String, test: String)] {
        let pattern = try! NSRegularExpression(pattern: #"`([A-Z][A-Za-z0-9]*)/([a-z][A-Za-z0-9]*)\(\)`"#)
        let range = NSRange(text.startIndex..., in: text)
        return pattern.matches(in: text, range: range).map { match in
            (String(text[Range(match.range(at: 1), in: text)!]), String(text[Range(match.range(at: 2), in: text)!]))
        }
    }

    /// The text of every Swift file under Tests/.
    static func testSources() throws -> [String] {
        let base = root.appendingPathComponent("Tests")
        let walker = FileManager.default.enumerator(atPath: base.path)
        var sources: [String] = []
        while let relative = walker?.nextObject() as? String {
            guard relative.hasSuffix(".swift") else { continue }
            sources.append(try String(contentsOf: base.appendingPathComponent(relative), encoding: .utf8))
        }
        return sources
    }

    /// The body of `struct suite` in `source`: from its declaration to the next suite's.
    static func suiteBody(_ suite: String, in source: String) -> Substring? {
        guard let start = source.range(of: "struct \(suite) {") ?? source.range(of: "struct \(suite): ") else { return nil }
        let rest = source[start.upperBound...]
        let end = rest.range(of: "\n@Suite")?.lowerBound ?? rest.endIndex
        return rest[..<end]
    }

    @Test func everyTestNamedInSecurityMDExistsInItsSuite() throws {
        let text = try String(contentsOf: Self.root.appendingPathComponent("docs/SECURITY.md"), encoding: .utf8)
        let references = Self.references(in: text)
        #expect(references.count >= 30, "SECURITY.md names \(references.count) tests")
        let sources = try Self.testSources()
        for (suite, test) in references {
            let bodies = sources.compactMap { Self.suiteBody(suite, in: $0) }
            #expect(!bodies.isEmpty, "SECURITY.md names suite \(suite), which no file under Tests/ declares")
            #expect(
                bodies.contains { $0.contains("func \(test)(") },
                "SECURITY.md names \(suite)/\(test)(), which is not a function of \(suite)")
        }
    }

    @Test func everyGuaranteeRowNamesATest() throws {
        let text = try String(contentsOf: Self.root.appendingPathComponent("docs/SECURITY.md"), encoding: .utf8)
        let section = try #require(text.components(separatedBy: "## Guarantees, and where they stop").dropFirst().first)
        let table = section.components(separatedBy: "\n## ").first ?? section
        let rows = table.split(separator: "\n").filter { $0.hasPrefix("| ") && !$0.hasPrefix("| Attacker") && !$0.hasPrefix("| ---") }
        #expect(rows.count >= 10)
        for row in rows {
            #expect(!Self.references(in: String(row)).isEmpty, "a guarantee without a test: \(row.prefix(120))")
        }
    }

    /// The checker itself: a name that is not there is caught.
    @Test func aMissingTestIsCaught() throws {
        let sources = try Self.testSources()
        let body = try #require(sources.compactMap { Self.suiteBody("SecurityDocTests", in: $0) }.first)
        #expect(body.contains("func aMissingTestIsCaught("))
        #expect(!body.contains("func " + "noSuchTest("))
        #expect(Self.references(in: "see `SecurityDocTests/noSuchTest()`").map(\.test) == ["noSuchTest"])
    }
}
