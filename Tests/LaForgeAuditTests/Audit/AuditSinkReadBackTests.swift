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

/// `verify chain --sink` and `audit query --sink` for a sink that reads back its storage
/// (ABI 1.1 read_back), with the C fixture `readback_sink.c` so the host side is tested apart
/// from any server: a faithful read-back verifies, a lying or lossy one is caught at the right
/// seq, the query filters what streams back, and a sink without read_back says so.
@Suite struct AuditSinkReadBackTests {
    struct Setup {
        let sandbox: AuditSandbox
        let plugins: String

        /// Runs `laforge` with the fixture plugin directory.
        func laforge(_ arguments: [String], config: String? = nil) throws -> CLIResult {
            try CLIRunner.run(arguments + ["--config", config ?? sandbox.configPath, "--plugin-dir", plugins], in: sandbox.root)
        }

        func verify(_ config: String? = nil) throws -> (status: Int32, report: JSONValue?, result: CLIResult) {
            let result = try laforge(["verify", "chain", "--sink", "rb", "--json"], config: config)
            return (result.status, try? JSONParser.parse(result.stdout), result)
        }
    }

    /// 12 entries (users alice/bob alternating), a checkpoint every 5, delivered to the fixture.
    func delivered(sinkOptions: String = "") throws -> Setup {
        let sandbox = try AuditSandbox()
        let plugins = try makePluginDirectory(["libreadback.so": "readback_sink.c", "libflaky.so": "flaky_sink.c"])
        try sandbox.writeConfig(audit: """
              checkpoints:
                every_entries: 5
                every_ms: 0
              sinks:
                - name: rb
                  library: libreadback.so
                  config: {path: \(sandbox.root)/rb.records\(sinkOptions)}
                - name: flaky
                  library: libflaky.so
                  config: {path: \(sandbox.root)/flaky.lines}
            """)
        let setup = Setup(sandbox: sandbox, plugins: plugins)
        let log = try AuditLog.open(config: sandbox.config(), logger: CapturedLog().logger)
        for seq in 0..<12 { try log.emit(auditEvent(seq % 2 == 0 ? "alice" : "bob", action: "policy.edit")) }
        try log.close()
        let deliver = try setup.laforge(["audit", "deliver", "--timeout", "30"])
        #expect(deliver.status == 0, "\(deliver.output)")
        return setup
    }

    @Test func aFaithfulReadBackVerifies() throws {
        let setup = try delivered()
        let (status, report, result) = try setup.verify()
        #expect(status == 0, "\(result.output)")
        #expect(report?["valid"]?.boolValue == true)
        #expect(report?["entries"]?.intValue == 12)
        #expect(report?["checkpoints"]?.intValue ?? 0 >= 2)

        let text = try setup.laforge(["verify", "chain", "--sink", "rb"])
        #expect(text.status == 0)
        #expect(text.stdout.hasPrefix("sink rb: OK — 12 entries (seq 0…11)"), "\(text.output)")
    }

    @Test func aLyingReadBackIsCaughtAtTheChangedSeq() throws {
        let setup = try delivered(sinkOptions: ", tamper_seq: 7")
        let (status, report, result) = try setup.verify()
        #expect(status == 1, "\(result.output)")
        #expect(report?["valid"]?.boolValue == false)
        #expect(report?["failure"]?["seq"]?.intValue == 7, "\(result.output)")
        #expect(report?["failure"]?["kind"]?.stringValue == "content changed", "\(result.output)")
        #expect(report?["failure"]?["location"]?.stringValue?.contains("readback file record entry/") == true, "\(result.output)")
    }

    @Test func anEntryLeftOutIsReportedMissing() throws {
        let setup = try delivered(sinkOptions: ", drop_seq: 4")
        let (status, report, result) = try setup.verify()
        #expect(status == 1, "\(result.output)")
        #expect(report?["failure"]?["seq"]?.intValue == 4, "\(result.output)")
        #expect(report?["failure"]?["kind"]?.stringValue == "entry missing", "\(result.output)")
    }

    @Test func queryFiltersWhatTheSinkStreamsBack() throws {
        let setup = try delivered()
        let alice = try setup.laforge(["audit", "query", "--sink", "rb", "--actor", "alice"])
        #expect(alice.status == 0, "\(alice.output)")
        #expect(alice.stdout.split(separator: "\n").map { $0.split(separator: "\t")[0] } == ["0", "2", "4", "6", "8", "10"])
        #expect(alice.stdout.split(separator: "\n").allSatisfy { $0.contains("\talice\tpolicy.edit\t") })

        // --json prints the stored bytes, which are the journal's.
        let stored = try setup.laforge(["audit", "query", "--sink", "rb", "--json", "--limit", "3"])
        let journal = try setup.laforge(["audit", "query", "--json", "--limit", "3"])
        #expect(stored.status == 0 && journal.status == 0)
        #expect(stored.stdout == journal.stdout)
        #expect(stored.stdout.split(separator: "\n").count == 3)
    }

    /// #17 item 12: a query over a sink verifies what the sink returns before printing any of
    /// it; a lying sink gets an error naming the seq and nothing printed, and `--no-verify`
    /// prints unverified rows only with a warning that says so.
    @Test func queryVerifiesWhatTheSinkReturns() throws {
        let faithful = try delivered()
        let verified = try faithful.laforge(["audit", "query", "--sink", "rb", "--actor", "alice"])
        #expect(verified.status == 0, "\(verified.output)")
        #expect(verified.stdout.split(separator: "\n").count == 6)
        #expect(verified.stderr.contains("verified sink rb: 12 entries, 3 checkpoints"), "\(verified.stderr)")

        let lying = try delivered(sinkOptions: ", tamper_seq: 4")
        let refused = try lying.laforge(["audit", "query", "--sink", "rb", "--actor", "alice"])
        #expect(refused.status == 1, "\(refused.output)")
        #expect(refused.stdout.isEmpty, "tampered rows were printed: \(refused.stdout)")
        #expect(refused.stderr.contains("sink rb fails verification, so nothing is printed"), "\(refused.stderr)")
        #expect(refused.stderr.contains("entry 4") || refused.stderr.contains("seq 4"), "\(refused.stderr)")
        let unverified = try lying.laforge(["audit", "query", "--sink", "rb", "--actor", "alice", "--no-verify"])
        #expect(unverified.status == 0, "\(unverified.output)")
        // (Entry 4 as the sink hands it back, `"v":2}`, is no entry at all: skipped.)
        #expect(unverified.stdout.split(separator: "\n").count == 5)
        #expect(unverified.stderr.contains("NOT verified"), "\(unverified.stderr)")

        // A sink behind the journal: what it holds verifies, and the lag is said.
        let log = try AuditLog.open(config: faithful.sandbox.config(), logger: CapturedLog().logger)
        for seq in 0..<18 { try log.emit(auditEvent("later-\(seq)")) }
        log.journal.close()
        let behind = try faithful.laforge(["audit", "query", "--sink", "rb", "--actor", "alice"])
        #expect(behind.status == 0, "\(behind.output)")
        #expect(behind.stderr.contains("the sink is 18 entries behind the journal"), "\(behind.stderr)")
        let lagging = try faithful.verify()
        #expect(lagging.report?["behind_journal"]?.intValue == 18, "\(lagging.result.output)")
    }

    @Test func withoutAJournalTheSinksOnlyChainIsRead() throws {
        let setup = try delivered()
        // An auditor's configuration: the same sink, a state dir without a journal.
        let elsewhere = setup.sandbox.root + "/auditor.yaml"
        let original = try setup.sandbox.read(setup.sandbox.configPath)
        try original.replacingOccurrences(of: "state_dir: \(setup.sandbox.stateDirectory)", with: "state_dir: \(setup.sandbox.root)/auditor-state")
            .write(toFile: elsewhere, atomically: true, encoding: .utf8)
        let result = try setup.laforge(
            ["verify", "chain", "--sink", "rb", "--json", "--key", setup.sandbox.stateDirectory + "/keys/checkpoint.pub"], config: elsewhere)
        #expect(result.status == 0, "\(result.output)")
        #expect((try? JSONParser.parse(result.stdout))?["entries"]?.intValue == 12)
    }

    @Test func aSinkWithoutReadBackSaysSo() throws {
        let setup = try delivered()
        for arguments in [["verify", "chain", "--sink", "flaky"], ["audit", "query", "--sink", "flaky"]] {
            let result = try setup.laforge(arguments)
            #expect(result.status == 2, "\(arguments): \(result.output)")
            #expect(result.stderr.contains("sink flaky (libflaky.so) cannot be read back"), "\(result.output)")
        }
        let unknown = try setup.laforge(["verify", "chain", "--sink", "nope"])
        #expect(unknown.status == 3)
        #expect(unknown.stderr.contains("no sink named nope (configured: rb, flaky)"), "\(unknown.output)")
    }

    @Test func readBackStopsWhenTheVisitorSaysSoAndGoesThroughTheGate() throws {
        let setup = try delivered()
        let config = try setup.sandbox.config()
        let readBack = try SinkReadBack.open(
            config: config, sink: "rb", options: .init(pluginDirectory: setup.plugins, logger: CapturedLog().logger))
        #expect(readBack.chainID == "default")
        #expect(readBack.runtime.sinks.map(\.name) == ["rb"])  // the other sink is not started
        var seen: [UInt64] = []
        try readBack.sink.readBack(chainID: "default") { record in
            if record.kind == .entry { seen.append(record.seq) }
            return seen.count < 3
        }
        #expect(seen == [0, 1, 2])
        var fromFive: [UInt64] = []
        try readBack.sink.readBack(chainID: "default", from: 5) { record in
            if record.kind == .entry { fromFive.append(record.seq) }
            return true
        }
        #expect(fromFive == Array(5..<12))
        readBack.close()
        #expect(throws: PluginCallError.self) { try readBack.sink.readBack(chainID: nil) { _ in true } }
    }
}
