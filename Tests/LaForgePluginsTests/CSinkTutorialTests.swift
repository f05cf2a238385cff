import Foundation
import Testing
@testable import LaForgeTestSupport

/// docs/ABI.md "A C sink in 30 minutes" works as written: its four C blocks, put together, are a
/// plugin of under 150 lines that its own build command compiles and the conformance kit passes
/// with the output the guide shows.
@Suite struct CSinkTutorialTests {
    static let section = "A C sink in 30 minutes"

    @Test func theTutorialSinkBuildsAndPassesTheKitAsShown() throws {
        let guide = try String(
            contentsOf: CPluginBuilder.packageRoot.appendingPathComponent("docs/ABI.md"), encoding: .utf8)
        let code = try GuideCodeBlocks.blocks(in: guide, section: Self.section, language: "c")
        #expect(code.count == 4)
        let source = code.joined(separator: "\n\n") + "\n"
        #expect(source.split(separator: "\n", omittingEmptySubsequences: false).count < 150)
        let commands = try GuideCodeBlocks.blocks(in: guide, section: Self.section, language: "sh")
            .flatMap { $0.split(separator: "\n").map(String.init) }
        let shown = try #require(GuideCodeBlocks.blocks(in: guide, section: Self.section, language: "text").first)
        #expect(commands.count == 2)

        // Where a reader would stand: a folder with the source and the package's Sources/.
        let directory = try temporaryDirectory("c-sink-tutorial")
        try source.write(toFile: directory + "/line_sink.c", atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(
            atPath: directory + "/Sources", withDestinationPath: CPluginBuilder.packageRoot.appendingPathComponent("Sources").path)
        let build = try CLIRunner.runShell("cd '\(directory)' && \(commands[0])")
        #expect(build.status == 0, "\(build.output)")

        let check = try CLIRunner.runShell("cd '\(directory)' && PATH='\(CLIRunner.buildDirectory)':$PATH \(commands[1])")
        #expect(check.status == 0, "\(check.output)")
        // The kit's lines as the guide shows them (scratch paths differ run to run).
        func normalized(_ text: String) -> [String] {
            text.split(separator: "\n").map {
                String($0).replacing(/\/tmp\/laforge-check-[^\/]+\//, with: "/tmp/laforge-check-…/")
            }
        }
        #expect(normalized(check.stdout) == normalized(shown), "the kit's output differs from the guide's:\n\(check.stdout)")
    }
}
