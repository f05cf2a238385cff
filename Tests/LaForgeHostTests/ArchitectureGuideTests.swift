import Foundation
import Testing
@testable import LaForgeTestSupport

/// docs/ARCHITECTURE.md stays true: its module map names every layered module, and every source
/// path and Swift file it points a contributor to exists.
@Suite struct ArchitectureGuideTests {
    static let guide = ArchitectureTests.packageRoot.appendingPathComponent("docs/ARCHITECTURE.md")

    @Test func theModuleMapNamesEveryLayeredModule() throws {
        let text = try String(contentsOf: Self.guide, encoding: .utf8)
        let map = try #require(text.components(separatedBy: "```\n").dropFirst().first, "no module map block")
        for module in ArchitectureTests.layers.joined() {
            #expect(map.contains(module), "the module map in docs/ARCHITECTURE.md does not show \(module)")
        }
    }

    @Test func everyPathItPointsToExists() throws {
        let text = try String(contentsOf: Self.guide, encoding: .utf8)
        let root = ArchitectureTests.packageRoot
        let allSwiftFiles = Set(
            (ArchitectureTests.swiftFiles(under: "Sources") + ArchitectureTests.swiftFiles(under: "Plugins"))
                .map(\.lastPathComponent))
        var checked = 0
        var missing: [String] = []
        // Every `…` span; those with a placeholder (`<Name>`) or a glob are patterns, not paths.
        for match in text.matches(of: /`([^`\s]+)`/) {
            let span = String(match.1)
            guard !span.contains("<"), !span.contains("*"), span.contains("/") || span.hasSuffix(".swift") || span.hasSuffix(".md") else { continue }
            let candidates = [span, "Sources/\(span)", "docs/\(span)"]
            let found: Bool
            if span.contains("/") {
                found = candidates.contains { FileManager.default.fileExists(atPath: root.appendingPathComponent($0).path) }
            } else if span.hasSuffix(".swift") {
                found = allSwiftFiles.contains(span)
            } else {
                found = FileManager.default.fileExists(atPath: root.appendingPathComponent("docs/\(span)").path)
                    || FileManager.default.fileExists(atPath: root.appendingPathComponent(span).path)
            }
            checked += 1
            if !found { missing.append(span) }
        }
        #expect(checked > 15, "the guide's paths were not found in the text (\(checked))")
        #expect(missing.isEmpty, "docs/ARCHITECTURE.md points to what does not exist: \(missing.joined(separator: ", "))")
    }
}
