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

/// `laforge verify chain --watch INTERVAL [--fail-fast]`: rounds re-verify the journal, file sinks
/// and snapshots, each recorded as an `audit.verify` event; a tamper between rounds fails the next
/// round; SIGTERM stops cleanly.
@Suite struct ChainWatchTests {
    /// Waits until `child`'s standard output holds `count` round lines (JSON, one per line).
    func rounds(_ child: LaForgeChild, atLeast count: Int) -> [JSONValue] {
        var parsed: [JSONValue] = []
        _ = eventually(within: 60) {
            parsed = child.stdout.split(separator: "\n").compactMap { try? JSONParser.parse(String($0)) }
            return parsed.count >= count || !child.process.isRunning
        }
        return parsed
    }

    @Test func tamperBetweenRoundsFailsFast() throws {
        let sandbox = try SnapshotSandbox()
        try sandbox.audit.writeConfig(audit: """
              sinks:
                - name: file
                  library: libFileSink.so
                  config:
                    path: \(sandbox.root)/sink/audit.ndjson
            """)
        try sandbox.sign(["db", "policy"])
        try sandbox.laforge(["audit", "deliver", "--timeout", "30"]).expectSuccess()
        let child = try LaForgeChild(
            ["verify", "chain", "--watch", "200ms", "--fail-fast", "--json", "--config", sandbox.configPath,
             "--plugin-dir", CLIRunner.buildDirectory],
            in: sandbox.work, tag: "watch")
        let first = rounds(child, atLeast: 2)
        #expect(first.count >= 2, "stdout: \(child.stdout)\nstderr: \(child.stderr)")
        #expect(first.allSatisfy { $0["passed"]?.boolValue == true }, "\(child.stdout)")
        let checks = first.first?["checks"]?.arrayValue?.compactMap { $0["what"]?.stringValue } ?? []
        #expect(checks == ["journal", "sink:file", "snapshots"])

        // One changed byte in a signed artifact: the next round fails and the watch exits 1.
        var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: sandbox.work + "/policy/rls.json")))
        bytes[2] ^= 0x20
        try Data(bytes).write(to: URL(fileURLWithPath: sandbox.work + "/policy/rls.json"))
        #expect(child.wait() == 1, "\(child.stderr)")
        let all = child.stdout.split(separator: "\n").compactMap { try? JSONParser.parse(String($0)) }
        let last = try #require(all.last)
        #expect(last["passed"]?.boolValue == false)
        let snapshots = last["checks"]?.arrayValue?.first { $0["what"]?.stringValue == "snapshots" }
        #expect(snapshots?["result"]?.stringValue == "failed")
        #expect(snapshots?["detail"]?.stringValue?.contains("policy/rls.json") == true)
        #expect(child.stderr.contains("artifact changed"))

        // Each round is an audit event: successes, then the failure naming what failed.
        let events = try sandbox.audit.journalEntries().compactMap { $0.entry["event"] }.filter { $0["action"]?.stringValue == "audit.verify" }
        #expect(events.count == all.count)
        #expect(events.dropLast().allSatisfy { $0["outcome"]?.stringValue == "success" })
        #expect(events.last?["outcome"]?.stringValue == "failure")
        #expect(events.last?["data"]?["checks"]?["snapshots"]?.stringValue?.hasPrefix("FAILED: artifact changed") == true)
        #expect(events.last?["data"]?["checks"]?["journal"]?.stringValue == "ok")
        // The rounds' own events keep the journal valid.
        #expect(try sandbox.audit.verifyChain().status == 0)
    }

    @Test func journalTamperIsFoundAndSigtermStopsCleanly() throws {
        let sandbox = try SnapshotSandbox()
        try sandbox.sign(["db"])
        let child = try LaForgeChild(
            ["verify", "chain", "--watch", "200ms", "--config", sandbox.configPath], in: sandbox.work, tag: "watch")
        _ = eventually(within: 60) { child.stdout.split(separator: "\n").count >= 2 || !child.process.isRunning }
        #expect(child.stdout.hasPrefix("round 1: OK"), "\(child.stdout) \(child.stderr)")
        kill(child.process.processIdentifier, SIGTERM)
        #expect(child.wait() == 0, "a clean stop with only passing rounds exits 0: \(child.stderr)")

        // Flip a byte inside the first entry of the journal segment: a watch that fails once but
        // is not --fail-fast keeps going, and exits 1 when stopped.
        let journal = sandbox.stateDirectory + "/journal"
        let segment = try #require(try FileManager.default.contentsOfDirectory(atPath: journal).first { $0.hasSuffix(".seg") })
        var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: journal + "/" + segment)))
        let marker = Array("snapshot.sign".utf8)
        let at = try #require((0..<(bytes.count - marker.count)).first { Array(bytes[$0..<$0 + marker.count]) == marker })
        bytes[at] = UInt8(ascii: "S")
        try Data(bytes).write(to: URL(fileURLWithPath: journal + "/" + segment))
        let again = try LaForgeChild(
            ["verify", "chain", "--watch", "200ms", "--config", sandbox.configPath], in: sandbox.work, tag: "watch-2")
        _ = eventually(within: 60) { again.stdout.split(separator: "\n").count >= 2 || !again.process.isRunning }
        #expect(again.process.isRunning, "without --fail-fast the watch goes on: \(again.stderr)")
        #expect(again.stdout.hasPrefix("round 1: FAILED — journal FAILED"), "\(again.stdout)")
        #expect(again.stderr.contains("journal"))
        kill(again.process.processIdentifier, SIGINT)
        #expect(again.wait() == 1)
    }

    @Test func intervalsParse() {
        #expect(ChainWatch.parseInterval("500ms") == 500_000_000)
        #expect(ChainWatch.parseInterval("30s") == 30_000_000_000)
        #expect(ChainWatch.parseInterval("5m") == 300_000_000_000)
        #expect(ChainWatch.parseInterval("1h") == 3_600_000_000_000)
        #expect(ChainWatch.parseInterval("2") == 2_000_000_000)
        #expect(ChainWatch.parseInterval("1ms") == nil)
        #expect(ChainWatch.parseInterval("fast") == nil)
        #expect(ChainWatch.parseInterval("-5s") == nil)
    }

    @Test func watchOptionsAreCheckedBeforeRunning() throws {
        let sandbox = try SnapshotSandbox()
        var result = try sandbox.laforge(["verify", "chain", "--watch", "soon"])
        #expect(result.status == 64)
        #expect(result.stderr.contains("500ms, 30s, 5m or 1h"))
        result = try sandbox.laforge(["verify", "chain", "--fail-fast"])
        #expect(result.status == 64)
        result = try sandbox.laforge(["verify", "chain", "--snapshots", "--file", "x"])
        #expect(result.status == 64)
    }
}
