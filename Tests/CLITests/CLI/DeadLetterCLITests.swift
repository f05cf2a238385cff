import Foundation
import Testing
@testable import LaForgeTestSupport

@testable import LaForgeAudit
@testable import LaForgeCore
@testable import LaForgePlugins

#if canImport(Glibc)
    import Glibc
#endif

/// `laforge deadletter list|show|replay|purge` against real plugins: `picky_sink.c` refuses
/// every record for good until its accept file exists, then stores them (idempotent by seq, and
/// logging every call so a double delivery shows); FileSink dead-letters after `max_attempts`
/// while its disk is full (RLIMIT_FSIZE), and verifies end to end once the dead letters are replayed.
@Suite struct DeadLetterCLITests {
    struct Picky {
        let sandbox: AuditSandbox
        let plugins: String
        var stored: String { sandbox.root + "/picky.lines" }
        var calls: String { sandbox.root + "/picky.calls" }
        var acceptFile: String { sandbox.root + "/accept" }

        func laforge(_ arguments: [String]) throws -> CLIResult {
            try CLIRunner.run(arguments + ["--config", sandbox.configPath, "--plugin-dir", plugins], in: sandbox.root)
        }

        func lines(_ path: String) -> [String] {
            ((try? sandbox.read(path)) ?? "").split(separator: "\n").map(String.init)
        }

        func list(all: Bool = false) throws -> [JSONValue] {
            let result = try laforge(["deadletter", "list", "--json"] + (all ? ["--all"] : []))
            guard result.status == 0 else { throw AuditTestFailure("deadletter list failed: \(result.output)") }
            return try JSONParser.parse(result.stdout).arrayValue ?? []
        }

        /// `<seq> entry` / `<size> checkpoint` for dead-letter ids, as the fixture writes them.
        static func line(_ id: String) -> String {
            let parts = id.split(separator: ":")
            return "\(parts[1]) \(parts[0])"
        }

        func journalActions() throws -> [String] {
            try sandbox.journalEntries().compactMap { $0.entry["event"]?["action"]?.stringValue }
        }
    }

    /// Records `count` events (the in-process host API), then runs `audit deliver` to the picky
    /// sink, which refuses them all: every entry and checkpoint becomes a dead letter.
    func picky(count: Int = 3, delayMilliseconds: Int = 0) throws -> Picky {
        let sandbox = try AuditSandbox()
        let plugins = try makePluginDirectory(["libpicky.so": "picky_sink.c"])
        let setup = Picky(sandbox: sandbox, plugins: plugins)
        try sandbox.writeConfig(audit: """
              checkpoints:
                every_entries: 0
                every_ms: 0
              delivery:
                retry_base_ms: 1
                retry_cap_ms: 5
              sinks:
                - name: picky
                  library: libpicky.so
                  config: {path: \(setup.stored), calls: \(setup.calls), accept_file: \(setup.acceptFile), delay_ms: \(delayMilliseconds)}
            """)
        let log = try AuditLog.open(config: sandbox.config(), logger: CapturedLog().logger)
        for index in 0..<count { try log.emit(auditEvent("u\(index)")) }
        try log.close()
        let deliver = try setup.laforge(["audit", "deliver", "--timeout", "60"])
        guard deliver.status == 0 else { throw AuditTestFailure("audit deliver failed: \(deliver.output)") }
        return setup
    }

    @Test func replayDeliversEachDeadLetterOnceTheSinkAcceptsAndNeverTwice() throws {
        let setup = try picky()
        let open = try setup.list()
        let ids = open.compactMap { $0["id"]?.stringValue }
        // The three events, the `audit.dead_letter` events recording the refusals, a checkpoint.
        #expect(Set(["entry:0", "entry:1", "entry:2", "checkpoint:3"]).isSubset(of: Set(ids)), "\(ids)")
        #expect(open.allSatisfy { $0["state"]?.stringValue == "pending" && $0["sink"]?.stringValue == "picky" })
        #expect(open.first?["error"]?.stringValue?.contains("refusing entry 0 for good") == true, "\(open)")
        #expect(try setup.journalActions().filter { $0 == "audit.dead_letter" }.count == 3)
        #expect(setup.lines(setup.stored).isEmpty)

        // The cause is not fixed yet: the sink refuses again, nothing is marked.
        let early = try setup.laforge(["deadletter", "replay", "picky"])
        #expect(early.status == 2, "\(early.output)")
        #expect(early.stderr.contains("still refuses entry:0 permanently"), "\(early.output)")
        // The sink answered: the dead letter is open again, not in doubt.
        #expect(try setup.list().map { $0["state"]?.stringValue } == open.map { _ in "pending" })

        try "".write(toFile: setup.acceptFile, atomically: true, encoding: .utf8)
        let one = try setup.laforge(["deadletter", "replay", "picky", "entry:1"])
        #expect(one.status == 0, "\(one.output)")
        #expect(one.stdout.contains("replayed 1 record(s)"), "\(one.output)")
        #expect(setup.lines(setup.calls) == ["1 entry"])

        let rest = try setup.laforge(["deadletter", "replay", "picky"])
        #expect(rest.status == 0, "\(rest.output)")
        #expect(try setup.list().isEmpty)
        let all = try setup.list(all: true)
        #expect(all.count == open.count)
        #expect(all.allSatisfy { $0["state"]?.stringValue == "replayed" }, "\(all)")
        // Each dead letter reached the sink exactly once, in journal order after entry 1.
        let expected = ids.map(Picky.line)
        #expect(setup.lines(setup.calls).sorted() == expected.sorted())
        #expect(setup.lines(setup.stored) == ["1 entry"] + expected.filter { $0 != "1 entry" })

        // Run again: nothing to do, nothing sent.
        let again = try setup.laforge(["deadletter", "replay", "picky"])
        #expect(again.status == 0 && again.stdout.contains("no open dead letters to replay"), "\(again.output)")
        #expect(setup.lines(setup.calls).count == expected.count)

        let show = try setup.laforge(["deadletter", "show", "picky", "2", "--json"])
        #expect(show.status == 0, "\(show.output)")
        let shown = try JSONParser.parse(show.stdout).arrayValue?.first
        #expect(shown?["state"]?.stringValue == "replayed")
        let journalEntry2 = try setup.sandbox.journalEntries().first { $0.seq == 2 }
        #expect(shown?["hash"]?.stringValue == journalEntry2?.hash)
        #expect(try shown?["record"]?.stringValue.map { try JSONParser.parse($0) } == journalEntry2?.entry)
        #expect(try setup.journalActions().filter { $0 == "audit.dead_letter_replayed" }.count == 2)
    }

    @Test func purgeIsAnAuditedDecisionAndRefusesWithoutAReason() throws {
        let setup = try picky(count: 2)
        let before = try setup.list().count

        let noReason = try setup.laforge(["deadletter", "purge", "picky", "entry:0", "--actor", "alice"])
        #expect(noReason.status == 64, "\(noReason.output)")
        #expect(noReason.stderr.contains("--reason TEXT is required"), "\(noReason.output)")
        let blank = try setup.laforge(["deadletter", "purge", "picky", "entry:0", "--actor", "alice", "--reason", "  "])
        #expect(blank.status == 64, "\(blank.output)")
        let neither = try setup.laforge(["deadletter", "purge", "picky", "--actor", "alice", "--reason", "x"])
        #expect(neither.status == 64 && neither.stderr.contains("--all"), "\(neither.output)")
        #expect(try setup.list().count == before)

        let purge = try setup.laforge(["deadletter", "purge", "picky", "entry:0", "--actor", "alice", "--reason", "ticket OPS-7: test data"])
        #expect(purge.status == 0, "\(purge.output)")
        #expect(purge.stdout.contains("purged 1 dead letter(s) as alice: entry:0"), "\(purge.output)")
        let open = try setup.list()
        #expect(open.count == before - 1)
        #expect(!open.contains { $0["id"]?.stringValue == "entry:0" })
        let events = try setup.sandbox.journalEntries().map(\.entry["event"]).filter { $0?["action"]?.stringValue == "audit.dead_letter_purged" }
        #expect(events.count == 1)
        #expect(events.first??["actor"]?["user"]?.stringValue == "alice")
        #expect(events.first??["data"]?["reason"]?.stringValue == "ticket OPS-7: test data")
        #expect(events.first??["data"]?["records"]?.arrayValue?.first?["id"]?.stringValue == "entry:0")

        // A purged record is not replayed, even once the sink accepts.
        try "".write(toFile: setup.acceptFile, atomically: true, encoding: .utf8)
        let replayPurged = try setup.laforge(["deadletter", "replay", "picky", "entry:0"])
        #expect(replayPurged.status == 2 && replayPurged.stderr.contains("already replayed or purged"), "\(replayPurged.output)")
        #expect(!setup.lines(setup.calls).contains("0 entry"))

        let unknown = try setup.laforge(["deadletter", "show", "picky", "entry:999"])
        #expect(unknown.status == 2 && unknown.stderr.contains("has no dead letter entry:999"), "\(unknown.output)")
        let badID = try setup.laforge(["deadletter", "show", "picky", "seq7"])
        #expect(badID.status == 64 && badID.stderr.contains("use entry:SEQ"), "\(badID.output)")
        let noSink = try setup.laforge(["deadletter", "replay", "nosuch"])
        #expect(noSink.status == 3 && noSink.stderr.contains("no sink named nosuch"), "\(noSink.output)")
    }

    /// A dead-letter file edited by hand (a hash that is not the journal's) sends nothing.
    @Test func aDeadLetterThatDisagreesWithTheJournalIsNotSent() throws {
        let setup = try picky(count: 1)
        let path = setup.sandbox.stateDirectory + "/deadletter/picky.ndjson"
        var lines = try setup.sandbox.read(path).split(separator: "\n").map(String.init)
        var first = try JSONParser.parse(lines[0])
        guard case .object(var object) = first else { throw AuditTestFailure("not an object") }
        object["hash"] = .string(String(repeating: "ab", count: 32))
        first = .object(object)
        lines[0] = JSONCanonicalizer.canonicalString(first)
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        try "".write(toFile: setup.acceptFile, atomically: true, encoding: .utf8)
        let replay = try setup.laforge(["deadletter", "replay", "picky"])
        #expect(replay.status == 1, "\(replay.output)")
        #expect(replay.stderr.contains("picky.ndjson:1: field \"hash\""), "\(replay.output)")
        #expect(setup.lines(setup.calls).isEmpty)

        try "not json\n".write(toFile: path, atomically: true, encoding: .utf8)
        let list = try setup.laforge(["deadletter", "list"])
        #expect(list.status == 1 && list.stderr.contains("picky.ndjson:1: not a JSON line"), "\(list.output)")
    }

    /// kill -9 in the middle of a replay, then the replay again: every dead letter ends up stored
    /// once, at most the one in doubt is handed over twice, and none is lost.
    @Test func aReplayKilledMidwayIsSafeToRunAgain() throws {
        let setup = try picky(count: 4, delayMilliseconds: 300)
        let ids = try setup.list().compactMap { $0["id"]?.stringValue }
        #expect(ids.count >= 6, "\(ids)")
        try "".write(toFile: setup.acceptFile, atomically: true, encoding: .utf8)
        let child = try LaForgeChild(
            ["deadletter", "replay", "picky", "--config", setup.sandbox.configPath, "--plugin-dir", setup.plugins],
            in: setup.sandbox.root, tag: "replay")
        #expect(eventually(within: 60) { setup.lines(setup.calls).count >= 2 }, "\(child.stderr)")
        child.kill()
        #expect(child.wait() == nil)
        #expect(setup.lines(setup.calls).count < ids.count, "the replay finished before it was killed")

        let again = try setup.laforge(["deadletter", "replay", "picky"])
        #expect(again.status == 0, "\(again.output)")
        #expect(try setup.list().isEmpty)
        let expected = ids.map(Picky.line)
        #expect(setup.lines(setup.stored).sorted() == expected.sorted())
        let calls = setup.lines(setup.calls)
        #expect(Set(calls) == Set(expected))
        #expect(calls.count <= expected.count + 1, "\(calls)")
    }

    /// FileSink on a full disk: tests run as root, so the failure comes from RLIMIT_FSIZE (the
    /// sink's file already holds more than `ulimit -f` allows, so every append fails with EFBIG,
    /// which FileSink answers RETRY) and delivery gives up after `max_attempts`. Once space is
    /// freed (the file removed), the replay fills the file, ordinary delivery continues it, and
    /// the sink verifies end to end: no gap left.
    @Test func fileSinkDeadLettersReplayedLeaveNoGap() throws {
        let sandbox = try AuditSandbox()
        let sinkPath = sandbox.root + "/sink/audit.ndjson"
        try sandbox.writeConfig(audit: """
              checkpoints:
                every_entries: 0
                every_ms: 0
              delivery:
                retry_base_ms: 1
                retry_cap_ms: 5
                max_attempts: 2
              sinks:
                - name: file
                  library: libFileSink.so
                  config:
                    path: \(sinkPath)
            """)
        try FileManager.default.createDirectory(atPath: sandbox.root + "/sink", withIntermediateDirectories: true)
        try String(repeating: String(repeating: "x", count: 99) + "\n", count: 400).write(toFile: sinkPath, atomically: true, encoding: .utf8)
        let log = try AuditLog.open(config: sandbox.config(), logger: CapturedLog().logger)
        for index in 0..<2 { try log.emit(auditEvent("u\(index)")) }
        try log.close()
        let full = try LaForgeChild(
            ["audit", "deliver", "--timeout", "60", "--config", sandbox.configPath, "--plugin-dir", CLIRunner.buildDirectory],
            in: sandbox.root, tag: "full", shell: "trap '' XFSZ; ulimit -f 24;")
        #expect(full.wait() == 0, "\(full.stderr)")
        let list = try sandbox.laforge(["deadletter", "list", "--sink", "file", "--json"])
        let ids = try JSONParser.parse(list.stdout).arrayValue?.compactMap { $0["id"]?.stringValue } ?? []
        #expect(Set(["entry:0", "entry:1", "checkpoint:2"]).isSubset(of: Set(ids)), "\(list.output)")
        #expect(ids.first == "entry:0")

        try FileManager.default.removeItem(atPath: sinkPath)
        let replay = try sandbox.laforge(["deadletter", "replay", "file"])
        #expect(replay.status == 0, "\(replay.output)")
        #expect(replay.stdout.contains("replayed \(ids.count) record(s)"), "\(replay.output)")
        let status = try sandbox.laforge(["status", "--json"])
        #expect(try JSONParser.parse(status.stdout)["sinks"]?.arrayValue?.first?["dead_letters"]?.intValue == 0, "\(status.output)")

        let more = try AuditLog.open(config: sandbox.config(), logger: CapturedLog().logger)
        try more.emit(auditEvent("after"))
        try more.close()
        let after = try sandbox.laforge(["audit", "deliver", "--timeout", "60"])
        #expect(after.status == 0, "\(after.output)")
        let verify = try sandbox.verifyChain(["--sink", "file"])
        #expect(verify.status == 0, "\(verify.result.output)")
        let entries = try sandbox.read(sinkPath).split(separator: "\n").filter { !$0.hasPrefix(#"{"checkpoint""#) }
        #expect(entries.count == (try sandbox.journalEntries().count))
    }

    /// FileSink keeps records in seq order: once it holds later entries it acknowledges an older
    /// one without storing it. The replay reads the sink back, finds the record missing, says so
    /// and leaves the dead letter open, never marking it replayed.
    @Test func aSinkThatAcknowledgesWithoutStoringLeavesTheDeadLetterOpen() throws {
        let sandbox = try AuditSandbox()
        let sinkPath = sandbox.root + "/sink/audit.ndjson"
        try sandbox.writeConfig(audit: """
              checkpoints:
                every_entries: 0
                every_ms: 0
              delivery:
                retry_base_ms: 1
                retry_cap_ms: 5
                max_attempts: 2
              sinks:
                - name: file
                  library: libFileSink.so
                  config:
                    path: \(sinkPath)
            """)
        try FileManager.default.createDirectory(atPath: sandbox.root + "/sink", withIntermediateDirectories: true)
        try String(repeating: String(repeating: "x", count: 99) + "\n", count: 400).write(toFile: sinkPath, atomically: true, encoding: .utf8)
        let log = try AuditLog.open(config: sandbox.config(), logger: CapturedLog().logger)
        try log.emit(auditEvent("early"))
        try log.close()
        let full = try LaForgeChild(
            ["audit", "deliver", "--timeout", "60", "--config", sandbox.configPath, "--plugin-dir", CLIRunner.buildDirectory],
            in: sandbox.root, tag: "full", shell: "trap '' XFSZ; ulimit -f 24;")
        #expect(full.wait() == 0, "\(full.stderr)")
        try FileManager.default.removeItem(atPath: sinkPath)
        // Later entries reach the sink first.
        let more = try AuditLog.open(config: sandbox.config(), logger: CapturedLog().logger)
        try more.emit(auditEvent("later"))
        try more.close()
        let deliver = try sandbox.laforge(["audit", "deliver", "--timeout", "60"])
        #expect(deliver.status == 0, "\(deliver.output)")

        let replay = try sandbox.laforge(["deadletter", "replay", "file", "entry:0"])
        #expect(replay.status == 2, "\(replay.output)")
        #expect(replay.stderr.contains("acknowledged entry:0 but does not hold it when read back"), "\(replay.output)")
        let list = try sandbox.laforge(["deadletter", "list", "--sink", "file", "--json"])
        let states = try JSONParser.parse(list.stdout).arrayValue?.filter { $0["id"]?.stringValue == "entry:0" }.map { $0["state"]?.stringValue }
        #expect(states == ["pending"], "\(list.output)")
    }
}
