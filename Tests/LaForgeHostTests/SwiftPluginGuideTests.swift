import Foundation
import Testing
@testable import LaForgeTestSupport

/// docs/ABI.md "Writing a plugin in Swift" shows the plugin kit's shape with FileSink's own code;
/// a guide that drifts from the code is worse than none, so every Swift block of that section
/// must still be in FileSink's sources (or its line in Package.swift) verbatim.
@Suite struct SwiftPluginGuideTests {
    @Test func guideBlocksAreFileSinkCode() throws {
        let root = CPluginBuilder.packageRoot
        let guide = try String(contentsOf: root.appendingPathComponent("docs/ABI.md"), encoding: .utf8)
        let blocks = try GuideCodeBlocks.blocks(in: guide, section: "Writing a plugin in Swift", language: "swift")
        #expect(blocks.count >= 4)

        let directory = root.appendingPathComponent("Plugins/FileSink")
        var sources = [try String(contentsOf: root.appendingPathComponent("Package.swift"), encoding: .utf8)]
        for name in try FileManager.default.contentsOfDirectory(atPath: directory.path) where name.hasSuffix(".swift") {
            sources.append(try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8))
        }
        for block in blocks {
            #expect(sources.contains { $0.contains(block) }, "docs/ABI.md Swift block not found in Plugins/FileSink or Package.swift:\n\(block)")
        }
        // The entry file is shown whole: the claim is that this is all the glue a sink needs.
        let entry = try String(contentsOf: directory.appendingPathComponent("Entry.swift"), encoding: .utf8)
        #expect(blocks.contains { $0 + "\n" == entry }, "docs/ABI.md no longer shows Plugins/FileSink/Entry.swift whole")
    }
}
