import Foundation
import Testing
@testable import LaForgeTestSupport

/// Every committed fuzz corpus input — the seeds and every crash ever found, kept once fixed —
/// replays through its target in the ordinary build (`laforge-fuzz TARGET FOLDER`, the same
/// target code libFuzzer drives in scripts/fuzz), so a regression fails the normal test run.
@Suite struct FuzzRegressionTests {
    static let corpus = CPluginBuilder.packageRoot.appendingPathComponent("Fuzz/corpus")

    static func targets() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: corpus.path).filter { !$0.hasPrefix(".") }.sorted()
    }

    static func replay(_ arguments: [String]) throws -> CLIResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CLIRunner.buildDirectory + "/laforge-fuzz")
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["SWIFT_BACKTRACE"] = "enable=no"
        process.environment = environment
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return CLIResult(
            status: process.terminationReason == .exit ? process.terminationStatus : 128 + process.terminationStatus,
            stdout: String(decoding: stdout, as: UTF8.self), stderr: String(decoding: stderr, as: UTF8.self))
    }

    @Test func everyCorpusInputIsHandledWithoutACrash() throws {
        let targets = try Self.targets()
        #expect(targets == ["checkpoint-note", "json", "jwks", "jwt", "ndjson-decoder", "ndjson-transcoder", "yaml-config"])
        for target in targets {
            let folder = Self.corpus.appendingPathComponent(target).path
            let inputs = try FileManager.default.contentsOfDirectory(atPath: folder).count
            #expect(inputs > 0, "\(target) has no corpus")
            let result = try Self.replay([target, folder])
            #expect(result.status == 0, "\(target): \(result.output)")
            #expect(result.stdout.contains("laforge-fuzz \(target): \(inputs) inputs handled"), "\(result.output)")
        }
    }

    /// scripts/fuzz runs exactly the targets that have a corpus, and the replayer knows each.
    @Test func theScriptAndTheReplayerNameTheSameTargets() throws {
        let script = try String(
            contentsOf: CPluginBuilder.packageRoot.appendingPathComponent("scripts/fuzz"), encoding: .utf8)
        let line = try #require(script.split(separator: "\n").first { $0.hasPrefix("all=(") })
        let listed = line.dropFirst("all=(".count).dropLast().split(separator: " ").map(String.init)
        #expect(listed.sorted() == (try Self.targets()))
        let usage = try Self.replay([])
        #expect(usage.status == 64)
        for target in listed { #expect(usage.stderr.contains(target)) }
    }
}
