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

/// `laforge snapshot sign|list|show` and `laforge verify chain --snapshots`, through the real CLI:
/// the happy path, and each way the chain can be damaged, named by kind and snapshot.
@Suite struct SnapshotChainTests {
    @Test func signListShowAndVerify() throws {
        let sandbox = try SnapshotSandbox()
        let first = try sandbox.sign(["db", "policy/rls.json"], message: "initial schema")
        try sandbox.write("db/m0002.sql", "create index on accounts (owner);\n")
        let second = try sandbox.sign(["db"], actor: "carol")

        let records = try sandbox.chainLines().map { try JSONParser.parse($0) }
        #expect(records.count == 2)
        #expect(records[0]["prev_hash"]?.isNull == true)
        #expect(records[1]["prev_hash"]?.stringValue == first)
        #expect(records[1]["hash"]?.stringValue == second)
        // The artifacts' digests are the files' SHA-256, sorted by path within a directory.
        let artifacts = try #require(records[0]["artifacts"]?.arrayValue)
        #expect(artifacts.compactMap { $0["path"]?.stringValue } == ["db/m0001.sql", "db/schema.sql", "policy/rls.json"])
        let schemaDigest = try SHA256.hash(fileAt: sandbox.work + "/db/schema.sql").hexString
        #expect(artifacts[1]["sha256"]?.stringValue == schemaDigest)
        #expect(records[1]["signature"]?["public_key"]?.stringValue != nil)
        #expect(records[1]["signer"]?["user"]?.stringValue == "carol")

        let list = try sandbox.laforge(["snapshot", "list"])
        #expect(list.status == 0, "\(list.output)")
        #expect(list.stdout.contains(String(first.prefix(12))) && list.stdout.contains("initial schema"))
        let show = try sandbox.laforge(["snapshot", "show", String(second.prefix(6)), "--json"])
        #expect(show.status == 0, "\(show.output)")
        #expect(try JSONParser.parse(show.stdout)["snapshot"]?["hash"]?.stringValue == second)
        #expect(try sandbox.laforge(["snapshot", "show", "latest"]).stdout.contains(second))

        let (status, report, result) = try sandbox.verifySnapshots()
        #expect(status == 0, "\(result.output)")
        #expect(report?["snapshots"]?.intValue == 2)
        #expect(report?["signatures_checked"]?.intValue == 2)
        #expect(report?["artifacts_checked"]?.intValue == 4)
        #expect(report?["audit_events_checked"]?.intValue == 2)

        // Each sign is an audit event carrying the snapshot hash.
        let events = try sandbox.audit.journalEntries().filter { $0.entry["event"]?["action"]?.stringValue == "snapshot.sign" }
        #expect(events.map { $0.entry["event"]?["artifact_hash"]?.stringValue } == ["sha256:" + first, "sha256:" + second])
        #expect(try sandbox.audit.verifyChain().status == 0)
    }

    @Test func changedArtifactByteIsNamed() throws {
        let sandbox = try SnapshotSandbox()
        try sandbox.sign(["db", "policy"])
        var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: sandbox.work + "/db/schema.sql")))
        bytes[7] ^= 0x01
        try Data(bytes).write(to: URL(fileURLWithPath: sandbox.work + "/db/schema.sql"))

        let (status, report, result) = try sandbox.verifySnapshots()
        #expect(status == 1, "\(result.output)")
        let problems = try #require(report?["problems"]?.arrayValue)
        #expect(problems.count == 1)
        #expect(problems.first?["kind"]?.stringValue == "artifact changed")
        #expect(problems.first?["location"]?.stringValue == "db/schema.sql")
        // Human output names the file too.
        let text = try sandbox.laforge(["verify", "chain", "--snapshots"])
        #expect(text.status == 1)
        #expect(text.stderr.contains("artifact changed") && text.stderr.contains("db/schema.sql"))
        // An absent artifact is not a chain failure: it is counted and named in a warning.
        bytes[7] ^= 0x01
        try Data(bytes).write(to: URL(fileURLWithPath: sandbox.work + "/db/schema.sql"))
        try FileManager.default.removeItem(atPath: sandbox.work + "/policy/rls.json")
        let absent = try sandbox.verifySnapshots()
        #expect(absent.status == 0, "\(absent.result.output)")
        #expect(absent.report?["artifacts_absent"]?.intValue == 1)
    }

    @Test func removedSnapshotsAreFound() throws {
        let sandbox = try SnapshotSandbox()
        for index in 0..<4 {
            try sandbox.write("db/m\(index).sql", "select \(index);\n")
            try sandbox.sign(["db/m\(index).sql"])
        }
        let lines = try sandbox.chainLines()

        // A snapshot removed from the middle: a gap in seq.
        try sandbox.writeChain(Array(lines[0..<2] + lines[3...]))
        var (status, report, result) = try sandbox.verifySnapshots()
        #expect(status == 1, "\(result.output)")
        #expect(SnapshotSandbox.problemKinds(report).contains("snapshot missing"))
        let gap = report?["problems"]?.arrayValue?.first { $0["seq"]?.intValue == 3 }
        #expect(gap?["message"]?.stringValue?.contains("snapshot 2 is missing") == true, "\(result.output)")

        // The newest snapshot removed: the chain alone looks whole, the audit journal says otherwise.
        try sandbox.writeChain(Array(lines[0..<3]))
        (status, report, result) = try sandbox.verifySnapshots()
        #expect(status == 1, "\(result.output)")
        let missing = report?["problems"]?.arrayValue?.first
        #expect(missing?["kind"]?.stringValue == "snapshot missing")
        #expect(missing?["seq"]?.intValue == 3)
        #expect(missing?["location"]?.stringValue?.hasPrefix("journal seq") == true)

        // The first one removed: the new first record links to a predecessor.
        try sandbox.writeChain(Array(lines[1...]))
        (status, report, result) = try sandbox.verifySnapshots()
        #expect(status == 1)
        #expect(SnapshotSandbox.problemKinds(report).first == "snapshot missing")
    }

    @Test func editedRecordsAndForgedSignaturesAreFound() throws {
        let sandbox = try SnapshotSandbox()
        try sandbox.sign(["db/schema.sql"])
        try sandbox.sign(["db/m0001.sql"])
        try sandbox.sign(["policy"])
        let lines = try sandbox.chainLines()

        // An artifact digest edited in a record: its own hash no longer matches.
        var edited = lines
        edited[1] = try replacing(lines[1]) { members in
            members["message"] = .string("approved by everyone")
        }
        try sandbox.writeChain(edited)
        var (status, report, result) = try sandbox.verifySnapshots()
        #expect(status == 1, "\(result.output)")
        #expect(report?["problems"]?.arrayValue?.first?["kind"]?.stringValue == "content changed")
        #expect(report?["problems"]?.arrayValue?.first?["seq"]?.intValue == 1)

        // A forged signature: bytes of the signature changed, everything else intact.
        var forged = lines
        forged[2] = try replacing(lines[2]) { members in
            guard case .object(var signature)? = members["signature"] else { return }
            var sig = Array(Data(base64Encoded: signature["sig"]!.stringValue!)!)
            sig[10] ^= 0xFF
            signature["sig"] = .string(Data(sig).base64EncodedString())
            members["signature"] = .object(signature)
        }
        try sandbox.writeChain(forged)
        (status, report, result) = try sandbox.verifySnapshots()
        #expect(status == 1, "\(result.output)")
        #expect(SnapshotSandbox.problemKinds(report) == ["signature forged"])
        #expect(report?["problems"]?.arrayValue?.first?["seq"]?.intValue == 2)

        // A record re-hashed and re-signed with an attacker's own key: valid signature, untrusted key.
        let attacker = try Ed25519SigningKey.generate(name: "mallory")
        let original = try Snapshot(json: try JSONParser.parse(lines[2]))
        let resigned = Snapshot(
            seq: original.seq, createdAt: original.createdAt, signer: AuditActor(user: "mallory"), message: nil,
            artifacts: original.artifacts, prevHash: original.prevHash, key: attacker)
        try sandbox.writeChain(Array(lines[0..<2]) + [String(decoding: resigned.canonicalLine().dropLast(), as: UTF8.self)])
        (status, report, result) = try sandbox.verifySnapshots()
        #expect(status == 1, "\(result.output)")
        let kinds = SnapshotSandbox.problemKinds(report)
        #expect(kinds.contains("untrusted key"), "\(result.output)")
        // …and the journal still knows the snapshot it replaced.
        #expect(kinds.contains("snapshot missing"), "\(result.output)")

        try sandbox.writeChain(lines)
        #expect(try sandbox.verifySnapshots().status == 0)
    }

    @Test func keyRotationRetiredKeysStillVerify() throws {
        let sandbox = try SnapshotSandbox()
        let old = try sandbox.generateKey("snap-2025")
        let new = try sandbox.generateKey("snap-2026")
        try sandbox.writeConfig(extra: "snapshots:\n  key_file: \(old.path)\n")
        try sandbox.sign(["db/schema.sql"])

        // Rotate without listing the old key: its snapshot is no longer trusted.
        try sandbox.writeConfig(extra: "snapshots:\n  key_file: \(new.path)\n")
        try sandbox.sign(["db/m0001.sql"])
        var (status, report, result) = try sandbox.verifySnapshots()
        #expect(status == 1, "\(result.output)")
        #expect(SnapshotSandbox.problemKinds(report) == ["untrusted key"])
        #expect(report?["problems"]?.arrayValue?.first?["seq"]?.intValue == 0)

        // Listing it as retired: both verify, and the new key signs on.
        try sandbox.writeConfig(extra: "snapshots:\n  key_file: \(new.path)\n  verifier_keys:\n    - \"\(old.verifier)\"\n")
        try sandbox.sign(["policy"])
        (status, report, result) = try sandbox.verifySnapshots()
        #expect(status == 0, "\(result.output)")
        #expect(report?["snapshots"]?.intValue == 3)
        let keyNames = try sandbox.chainLines().map { try JSONParser.parse($0)["signature"]?["key_name"]?.stringValue }
        #expect(keyNames == ["snap-2025", "snap-2026", "snap-2026"])
        // An auditor with only the public keys verifies too (--key adds a key).
        try sandbox.writeConfig(extra: "snapshots:\n  key_file: \(sandbox.root)/keys/absent\n")
        #expect(try sandbox.verifySnapshots().status == 1)
        (status, _, result) = try sandbox.verifySnapshots(["--key", old.path + ".pub", "--key", new.path + ".pub"])
        #expect(status == 0, "\(result.output)")
    }

    @Test func concurrentSignersDoNotForkTheChain() throws {
        let sandbox = try SnapshotSandbox()
        let children = try (0..<6).map { index in
            try sandbox.write("db/c\(index).sql", "select \(index);\n")
            return try LaForgeChild(
                ["snapshot", "sign", "db/c\(index).sql", "--actor", "ci-\(index)", "--config", sandbox.configPath],
                in: sandbox.work, tag: "sign-\(index)")
        }
        for child in children { #expect(child.wait() == 0, "\(child.stderr)") }
        let records = try sandbox.chainLines().map { try Snapshot(json: try JSONParser.parse($0)) }
        #expect(records.map(\.seq) == Array(0..<6))
        for index in 1..<records.count { #expect(records[index].prevHash == records[index - 1].hash) }
        let (status, report, result) = try sandbox.verifySnapshots()
        #expect(status == 0, "\(result.output)")
        #expect(report?["audit_events_checked"]?.intValue == 6)
    }

    @Test func idsResolveByUniquePrefixWithClearErrors() throws {
        let sandbox = try SnapshotSandbox()
        let first = try sandbox.sign(["db/schema.sql"])
        let latest = try sandbox.laforge(["snapshot", "show", "latest", "--json"])
        #expect(try JSONParser.parse(latest.stdout)["snapshot"]?["hash"]?.stringValue == first)
        let tooShort = try sandbox.laforge(["snapshot", "show", String(first.prefix(2))])
        #expect(tooShort.status == 64)
        #expect(tooShort.stderr.contains("at least 4"))
        let other = first.hasPrefix("0") ? "1111" : "0000"
        let unknown = try sandbox.laforge(["snapshot", "show", other])
        #expect(unknown.status == 64)
        #expect(unknown.stderr.contains("no snapshot \(other)"))

        // Two ids sharing 4 digits need ~300 snapshots (birthday bound on 16 bits): a chain of
        // 1000 built with a fixed key and times, so the collision is deterministic.
        let key = try Ed25519SigningKey(name: "fixed", seed: [UInt8](repeating: 7, count: 32))
        var snapshots: [Snapshot] = []
        var lines = ""
        for index in 0..<1000 {
            let snapshot = Snapshot(
                seq: UInt64(index), createdAt: AuditTimestamp(microseconds: 1_800_000_000_000_000 + Int64(index)),
                signer: AuditActor(user: "alice"), message: nil,
                artifacts: [SnapshotArtifact(path: "a\(index)", sha256: SHA256.hash(Array("\(index)".utf8)), size: 1)],
                prevHash: snapshots.last?.hash, key: key)
            snapshots.append(snapshot)
            lines += String(decoding: snapshot.canonicalLine(), as: UTF8.self)
        }
        let bulk = try AuditSandbox()
        try FileManager.default.createDirectory(atPath: bulk.stateDirectory + "/snapshots", withIntermediateDirectories: true)
        try lines.write(toFile: bulk.stateDirectory + "/snapshots/chain.ndjson", atomically: true, encoding: .utf8)
        let chain = SnapshotChain(stateDirectory: bulk.stateDirectory)
        let byPrefix = Dictionary(grouping: snapshots, by: { String($0.hash.hexString.prefix(4)) })
        let (prefix, sharing) = try #require(byPrefix.first { $0.value.count > 1 })
        #expect(throws: SnapshotError.self) { try chain.resolve(prefix) }
        do { _ = try chain.resolve(prefix) } catch {
            #expect(error.kind == .invalidInput)
            #expect(error.message.contains("ambiguous") && error.message.contains(sharing[0].shortID))
        }
        #expect(try chain.resolve(sharing[0].shortID) == sharing[0])
        #expect(try chain.resolve("latest").seq == 999)

        let missing = try sandbox.laforge(["snapshot", "sign", "db/nope.sql", "--actor", "alice"])
        #expect(missing.status == 64)
        #expect(missing.stderr.contains("db/nope.sql: no such file"))
        let noActor = try sandbox.laforge(["snapshot", "sign", "db/schema.sql"])
        #expect(noActor.status == 64)
        #expect(noActor.stderr.contains("--actor"))
    }

    @Test func interruptedLastLineIsSkippedThenCut() throws {
        let sandbox = try SnapshotSandbox()
        try sandbox.sign(["db/schema.sql"])
        let handle = try #require(FileHandle(forWritingAtPath: sandbox.chainPath))
        handle.seekToEndOfFile()
        handle.write(Data(#"{"artifacts":[{"pa"#.utf8))
        try handle.close()
        var (status, report, result) = try sandbox.verifySnapshots()
        #expect(status == 0, "\(result.output)")
        #expect(report?["warnings"]?.arrayValue?.contains { $0.stringValue?.contains("interrupted last line") == true } == true)
        let sign = try sandbox.laforge(["snapshot", "sign", "db/m0001.sql", "--actor", "alice"])
        #expect(sign.status == 0, "\(sign.output)")
        #expect(sign.stderr.contains("removed an interrupted last line"))
        (status, report, result) = try sandbox.verifySnapshots()
        #expect(status == 0, "\(result.output)")
        #expect(report?["snapshots"]?.intValue == 2)
    }
}
