import Foundation
import Testing
@testable import LaForgeTestSupport

@testable import LaForgeAudit
@testable import LaForgeCore
@testable import LaForgeJournal
@testable import LaForgePlugins

/// `laforge verify chain` never writes: whatever it is shown (a changed checkpoint frame, junk
/// after a segment, a torn tail), every byte of the state directory is the same afterwards, and
/// the failure names the seq. Recovery of a torn tail is the writer's, on its next open, with
/// the bytes it cut kept aside.
@Suite struct AuditVerifyReadOnlyTests {
    func segment(_ sandbox: AuditSandbox) -> String { sandbox.stateDirectory + "/journal/" + SegmentName.fileName(firstSeq: 0) }

    func checkpointLog(_ sandbox: AuditSandbox) -> String { sandbox.stateDirectory + "/journal/checkpoints.log" }

    /// The frame offsets of checkpoints.log.
    func checkpointFrames(_ path: String) throws -> [(offset: Int, size: UInt64, count: Int)] {
        let bytes = [UInt8](try #require(FileManager.default.contents(atPath: path)))
        var frames: [(Int, UInt64, Int)] = []
        var offset = 0
        while offset + 16 <= bytes.count {
            let length = Int(bytes[offset + 4]) | Int(bytes[offset + 5]) << 8 | Int(bytes[offset + 6]) << 16 | Int(bytes[offset + 7]) << 24
            var size: UInt64 = 0
            for index in 0..<8 { size |= UInt64(bytes[offset + 8 + index]) << (8 * UInt64(index)) }
            frames.append((offset, size, 16 + length + 32))
            offset += 16 + length + 32
        }
        return frames
    }

    @Test func aChangedLastCheckpointFrameIsReportedAndKept() throws {
        let (sandbox, _) = try AuditTamperTests().deliveredChain()
        let path = checkpointLog(sandbox)
        let last = try #require(try checkpointFrames(path).last)
        #expect(last.size == 20)
        var bytes = [UInt8](try #require(FileManager.default.contents(atPath: path)))
        bytes[last.offset + 40] ^= 0x01
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let before = try StoreDigest(sandbox.stateDirectory)

        let (status, report, result) = try sandbox.verifyChain()
        #expect(status == 1, "\(result.output)")
        #expect(report?["failure"]?["kind"]?.stringValue == "checkpoint forged", "\(result.output)")
        #expect(report?["failure"]?["seq"]?.intValue == 20, "\(result.output)")
        #expect(try StoreDigest(sandbox.stateDirectory) == before, "verify changed the store")

        // The writer's next open cuts the frame (it may be a torn write), keeps its bytes aside
        // and says loudly that a signed checkpoint may be what it removed (#17 item 1).
        let emit = try sandbox.laforge(["audit", "emit", "--action", "schema.change", "--user", "after-change"])
        #expect(emit.status == 0, "\(emit.output)")
        #expect(emit.stderr.contains("A CHECKPOINT FRAME WAS REMOVED"), "\(emit.output)")
        let kept = sandbox.stateDirectory + "/journal/recovered/checkpoints.log.\(last.offset)"
        #expect(FileManager.default.contents(atPath: kept).map { [UInt8]($0) } == Array(bytes[last.offset...]), "\(kept)")
    }

    @Test(arguments: [
        Array("garbage after the last frame\n".utf8), [UInt8](repeating: 0, count: 3), Array("LFJ1".utf8) + [UInt8](repeating: 0xFF, count: 200),
    ])
    func junkAfterTheLastFrameFailsAndStays(junk: [UInt8]) throws {
        let (sandbox, _) = try AuditTamperTests().deliveredChain()
        let handle = try #require(FileHandle(forWritingAtPath: segment(sandbox)))
        handle.seekToEndOfFile()
        handle.write(Data(junk))
        try handle.close()
        let before = try StoreDigest(sandbox.stateDirectory)

        let (status, report, result) = try sandbox.verifyChain()
        #expect(status == 1, "\(result.output)")
        #expect(report?["failure"]?["seq"]?.intValue == 20, "\(result.output)")
        #expect(try StoreDigest(sandbox.stateDirectory) == before, "verify changed the store")
    }

    /// A frame cut short at the end (what a crash leaves): a warning, a failure under --strict,
    /// untouched by verify; the writer's next open cuts it and keeps the bytes in recovered/.
    @Test func aTornTailIsReportedByVerifyAndRecoveredByTheWriter() throws {
        let (sandbox, _) = try AuditTamperTests().deliveredChain()
        let path = segment(sandbox)
        let whole = [UInt8](try #require(FileManager.default.contents(atPath: path)))
        let frame = [UInt8](whole[0..<120])  // a header and part of entry 0's payload: a frame cut short
        var torn = frame
        torn[8] = 20  // seq 20, as the next frame would be
        try Data(whole + torn).write(to: URL(fileURLWithPath: path))
        let before = try StoreDigest(sandbox.stateDirectory)

        let lenient = try sandbox.verifyChain(["--no-strict"])
        #expect(lenient.status == 0, "\(lenient.result.output)")
        #expect(lenient.report?["torn_tail"]?.stringValue?.contains("at byte \(whole.count)") == true, "\(lenient.result.output)")
        let strict = try sandbox.verifyChain(["--strict"])
        #expect(strict.status == 1, "\(strict.result.output)")
        #expect(try StoreDigest(sandbox.stateDirectory) == before, "verify changed the store")

        let emit = try sandbox.laforge(["audit", "emit", "--action", "schema.change", "--actor", "after-crash"])
        #expect(emit.status == 0, "\(emit.output)")
        #expect(emit.stderr.contains("journal recovery"), "\(emit.output)")
        let kept = sandbox.stateDirectory + "/journal/recovered/" + SegmentName.fileName(firstSeq: 0) + ".\(whole.count)"
        #expect(FileManager.default.contents(atPath: kept).map { [UInt8]($0) } == torn)
        #expect(try sandbox.verifyChain().status == 0)
    }

    /// `audit tail`, `audit query` and `audit prove` read the files only (#17 item 12): a torn
    /// tail that a writer's open would cut (and keep aside in journal/recovered/) stays exactly
    /// as it is, and what they print ends before it.
    @Test func tailQueryAndProveNeverWriteTheJournal() throws {
        let (sandbox, _) = try AuditTamperTests().deliveredChain()
        let path = segment(sandbox)
        let whole = [UInt8](try #require(FileManager.default.contents(atPath: path)))
        var torn = [UInt8](whole[0..<120])
        torn[8] = 20
        try Data(whole + torn).write(to: URL(fileURLWithPath: path))
        let before = try StoreDigest(sandbox.stateDirectory)
        let tail = try sandbox.laforge(["audit", "tail", "-n", "3", "--json"])
        #expect(tail.status == 0, "\(tail.output)")
        #expect(tail.stdout.split(separator: "\n").compactMap { try? JSONParser.parse(String($0))["seq"]?.intValue } == [17, 18, 19])
        let query = try sandbox.laforge(["audit", "query", "--actor", "user-07", "--json"])
        #expect(query.status == 0, "\(query.output)")
        #expect(query.stdout.split(separator: "\n").count == 1, "\(query.output)")
        let prove = try sandbox.laforge(["audit", "prove", "7"])
        #expect(prove.status == 0, "\(prove.output)")
        #expect(!tail.stderr.contains("journal recovery") && !query.stderr.contains("journal recovery"))
        #expect(try StoreDigest(sandbox.stateDirectory) == before, "a reader changed the store")
        // A changed frame stops a read with the seq, never silently skipped.
        var changed = whole
        changed[80 * 1 + 300] ^= 0x01
        try Data(changed).write(to: URL(fileURLWithPath: path))
        let damaged = try sandbox.laforge(["audit", "tail", "-n", "30"])
        #expect(damaged.status != 0, "\(damaged.output)")
        #expect(damaged.stderr.contains("run `laforge verify chain`"), "\(damaged.stderr)")
    }

    /// The journal cut back together with its last checkpoint verifies as a shorter journal;
    /// what the verifier kept from its last run (--state) shows the cut, as --strict shows
    /// entries no checkpoint covers.
    @Test func truncationIsCaughtByTheKeptStateAndByStrict() throws {
        let (sandbox, _) = try AuditTamperTests().deliveredChain()
        let state = sandbox.root + "/verified.json"
        let first = try sandbox.verifyChain(["--state", state])
        #expect(first.status == 0, "\(first.result.output)")

        // Cut entries 17…19 and the checkpoint of size 20.
        let path = segment(sandbox)
        let offsets = try frameOffsets(path)
        try truncateFile(path, to: offsets[17])
        let log = checkpointLog(sandbox)
        try truncateFile(log, to: UInt64(try #require(try checkpointFrames(log).last).offset))

        let plain = try sandbox.verifyChain(["--no-strict"])
        #expect(plain.status == 0, "\(plain.result.output)")
        #expect(plain.report?["uncovered_entries"]?.intValue == 2)
        let strict = try sandbox.verifyChain(["--strict"])
        #expect(strict.status == 1)
        #expect(strict.report?["failure"]?["kind"]?.stringValue == "not covered")
        #expect(strict.report?["failure"]?["seq"]?.intValue == 15)
        let remembered = try sandbox.verifyChain(["--no-strict", "--state", state])
        #expect(remembered.status == 1, "\(remembered.result.output)")
        #expect(remembered.report?["failure"]?["kind"]?.stringValue == "entry missing")
        #expect(remembered.report?["failure"]?["seq"]?.intValue == 17)

        // Emptied: no entries left at all.
        try truncateFile(path, to: 0)
        try truncateFile(log, to: 0)
        let emptied = try sandbox.verifyChain(["--state", state])
        #expect(emptied.status == 1, "\(emptied.result.output)")
        #expect(emptied.report?["failure"]?["seq"]?.intValue == 0)
    }

    /// Entries forged after the last checkpoint, correctly linked: a warning, a failure under
    /// --strict (the default in production).
    @Test func forgedLinkedEntriesAfterTheLastCheckpointFailUnderStrict() throws {
        let (sandbox, lines) = try AuditTamperTests().deliveredChain()
        var previous = SHA256.leafHash(Array(lines[AuditTamperTests.index(ofEntry: 19)].utf8))
        var forged = lines
        for seq in 20..<22 {
            let bytes = AuditEntry.bytes(
                chainID: "default", event: JSONCanonicalizer.canonicalize(["action": "schema.change", "actor": ["user": "mallory"]]),
                seq: UInt64(seq), prevHash: previous)
            previous = SHA256.leafHash(bytes)
            forged.append(String(decoding: bytes, as: UTF8.self))
        }
        let path = sandbox.root + "/forged.ndjson"
        try forged.map { $0 + "\n" }.joined().write(toFile: path, atomically: true, encoding: .utf8)
        let lenient = try sandbox.verifyChain(["--file", path])
        #expect(lenient.status == 0, "\(lenient.result.output)")
        #expect(lenient.report?["uncovered_entries"]?.intValue == 2)
        let strict = try sandbox.verifyChain(["--file", path, "--strict"])
        #expect(strict.status == 1, "\(strict.result.output)")
        #expect(strict.report?["failure"]?["seq"]?.intValue == 20)
        // Production mode makes --strict the default.
        let production = try String(contentsOfFile: sandbox.configPath, encoding: .utf8)
            .replacingOccurrences(
                of: "mode: development",
                with: "mode: production\ntrusted_keys:\n  - name: plugins\n    public_key: \(Data(try Ed25519SigningKey.generate(name: "plugins").verifierKey.publicKey).base64EncodedString())")
        let productionConfig = sandbox.root + "/production.yaml"
        try production.write(toFile: productionConfig, atomically: true, encoding: .utf8)
        // Production trusts only pinned keys: the auditor names the signer's public key.
        let pinned = sandbox.stateDirectory + "/keys/checkpoint.pub"
        let inProduction = try sandbox.verifyChain(["--file", path, "--key", pinned], config: productionConfig)
        #expect(inProduction.status == 1, "\(inProduction.result.output)")
    }

    /// An edited prev_hash is blamed on the entry that holds it, a changed entry on itself, and
    /// the message shows both hashes whole.
    @Test func aBrokenLinkIsBlamedOnTheRightEntry() throws {
        let (sandbox, lines) = try AuditTamperTests().deliveredChain()
        var edited = lines
        let at = AuditTamperTests.index(ofEntry: 13)
        let prev = try #require(JSONParser.parse(lines[at])["prev_hash"]?.stringValue)
        let last = prev.last == "0" ? "1" : "0"
        edited[at] = lines[at].replacingOccurrences(of: prev, with: String(prev.dropLast()) + last)
        let failure = try AuditTamperTests().verify(sandbox, "prev-hash-edited", lines: edited)
        #expect(failure.kind == "content changed")
        #expect(failure.seq == 13, "\(failure.message)")
        #expect(failure.message.contains(prev), "\(failure.message)")
    }

    /// A FileSink set whose oldest rotated file was removed: the rest verifies from its first
    /// checkpoint file by file, but not as the set.
    @Test func aRotatedSetMissingItsFirstFileFails() throws {
        let sandbox = try AuditSandbox()
        let path = try sandbox.deliveredRotatedFileSink()
        #expect(FileManager.default.fileExists(atPath: path + ".2"))
        #expect(try sandbox.verifyChain(["--sink", "file"]).status == 0)

        try FileManager.default.removeItem(atPath: path + ".1")
        let missingFirst = try sandbox.verifyChain(["--sink", "file"])
        #expect(missingFirst.status == 1, "\(missingFirst.result.output)")
        #expect(missingFirst.report?["failure"]?["kind"]?.stringValue == "entry missing")
        #expect(missingFirst.report?["failure"]?["seq"]?.intValue == 0)
    }
}

/// `--against-journal`: a sink is compared entry by entry with the journal and its end with the
/// host's delivery cursor.
@Suite struct AuditVerifyAgainstJournalTests {
    @Test func aSinkIsComparedWithTheJournal() throws {
        let (sandbox, lines) = try AuditTamperTests().deliveredChain()
        let sinkPath = sandbox.root + "/sink/audit.ndjson"
        #expect(try sandbox.verifyChain(["--sink", "file", "--against-journal"]).report?["behind_journal"]?.intValue == 0)

        // Three more entries in the journal, not delivered yet: reported as behind, not failed.
        let log = try AuditLog.open(config: sandbox.config(), logger: CapturedLog().logger)
        for seq in 20..<23 { try log.emit(auditEvent("later-\(seq)")) }
        try log.close()
        let behind = try sandbox.verifyChain(["--sink", "file", "--against-journal"])
        #expect(behind.status == 0, "\(behind.result.output)")
        #expect(behind.report?["behind_journal"]?.intValue == 3)
        // Without --against-journal a lagging sink is reported too (#17 item 12), in text and JSON.
        let lagging = try sandbox.verifyChain(["--sink", "file"])
        #expect(lagging.status == 0, "\(lagging.result.output)")
        #expect(lagging.report?["behind_journal"]?.intValue == 3)
        let text = try sandbox.laforge(["verify", "chain", "--sink", "file"])
        #expect(text.stdout.contains("warning: the sink is 3 entries behind the journal"), "\(text.output)")
        #expect(behind.report?["warnings"]?.arrayValue?.contains { $0.stringValue?.contains("3 entries behind the journal") == true } == true)

        // Entries 18 and 19 and the last checkpoint cut from the sink: the chain alone still
        // verifies, but the cursor says they were delivered.
        let cut = lines[..<AuditTamperTests.index(ofEntry: 18)].map { $0 + "\n" }.joined()
        try cut.write(toFile: sinkPath, atomically: true, encoding: .utf8)
        #expect(try sandbox.verifyChain(["--file", sinkPath, "--no-strict"]).status == 0)
        // As a sink (beside its journal) its end is held against the cursor even without
        // --against-journal.
        let asSink = try sandbox.verifyChain(["--sink", "file", "--no-strict"])
        #expect(asSink.status == 1, "\(asSink.result.output)")
        #expect(asSink.report?["failure"]?["kind"]?.stringValue == "entry missing")
        let missing = try sandbox.verifyChain(["--sink", "file", "--against-journal", "--no-strict"])
        #expect(missing.status == 1, "\(missing.result.output)")
        #expect(missing.report?["failure"]?["kind"]?.stringValue == "entry missing")
        #expect(missing.report?["failure"]?["seq"]?.intValue == 18)

        // Entries forged after the sink's last one, correctly linked: they are not the journal's.
        var previous = SHA256.leafHash(Array(lines[AuditTamperTests.index(ofEntry: 19)].utf8))
        var forged = lines
        for seq in 20..<22 {
            let bytes = AuditEntry.bytes(
                chainID: "default", event: JSONCanonicalizer.canonicalize(["action": "schema.change", "actor": ["user": "mallory"]]),
                seq: UInt64(seq), prevHash: previous)
            previous = SHA256.leafHash(bytes)
            forged.append(String(decoding: bytes, as: UTF8.self))
        }
        try forged.map { $0 + "\n" }.joined().write(toFile: sinkPath, atomically: true, encoding: .utf8)
        // Their end is past the cursor: only the entry-by-entry comparison shows them.
        #expect(try sandbox.verifyChain(["--sink", "file", "--no-strict"]).status == 0)
        let foreign = try sandbox.verifyChain(["--sink", "file", "--against-journal", "--no-strict"])
        #expect(foreign.status == 1, "\(foreign.result.output)")
        #expect(foreign.report?["failure"]?["seq"]?.intValue == 20)
        #expect(foreign.report?["failure"]?["message"]?.stringValue?.contains("differs from the journal's entry 20") == true)
    }
}
