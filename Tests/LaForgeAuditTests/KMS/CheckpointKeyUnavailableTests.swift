import Foundation
import Testing
@testable import LaForgeTestSupport

@testable import LaForgeAudit
@testable import LaForgeCore
@testable import LaForgeJournal
@testable import LaForgePlugins

#if canImport(Glibc)
    import Glibc
#endif

/// #17 item 10: the KMS that unwraps the checkpoint key unreachable must not stop recording.
/// Every command that records still records (emit, snapshot sign, annotate, guard deploy),
/// the entries no checkpoint covers are counted (metric and `audit status`), and checkpoints
/// follow once the KMS answers again. A record is never stored without its audit event.
@Suite(.serialized) struct CheckpointKeyUnavailableTests {
    func writeConfig(_ sandbox: AuditSandbox, _ moto: MotoFixture, endpoint: String? = nil, backend: String = "kms") throws {
        try writeWrappedCheckpointKeyConfig(sandbox, moto, endpoint: endpoint, backend: backend)
    }

    func status(_ sandbox: AuditSandbox) throws -> JSONValue {
        let result = try sandbox.laforge(["audit", "status", "--json"])
        guard result.status == 0 else { throw AuditTestFailure("audit status: \(result.output)") }
        return try JSONParser.parse(result.stdout)
    }

    func actions(_ sandbox: AuditSandbox) throws -> [String] {
        try sandbox.journalEntries().compactMap { $0.entry["event"]?["action"]?.stringValue }
    }

    @Test func entriesAreRecordedWhileTheKMSIsDownAndCheckpointsFollowWhenItIsBack() throws {
        let moto = try MotoFixture.shared()
        let sandbox = try AuditSandbox()
        try writeConfig(sandbox, moto)
        let keyPath = sandbox.root + "/keys/checkpoint"
        try FileManager.default.createDirectory(atPath: sandbox.root + "/keys", withIntermediateDirectories: true)
        let wrap = try sandbox.laforge(["keys", "wrap", "--generate", "laforge-test", "--out", keyPath])
        #expect(wrap.status == 0, "\(wrap.output)")
        #expect(try sandbox.laforge(["audit", "emit", "--actor", "before", "--action", "schema.change"]).status == 0)
        #expect(try status(sandbox)["uncovered_entries"]?.intValue == 0)

        // The KMS unreachable: a closed loopback port as its endpoint.
        let closed = try closedLoopbackPort()
        try writeConfig(sandbox, moto, endpoint: "http://127.0.0.1:\(closed)")
        for user in ["u1", "u2"] {
            let emit = try sandbox.laforge(["audit", "emit", "--actor", user, "--action", "schema.change", "--json-output"])
            #expect(emit.status == 0, "\(emit.output)")
            #expect(emit.stderr.contains("checkpoints follow when the key is back"), "\(emit.stderr)")
            expectNoSecrets(emit.output, moto.secrets)
            #expect(try parseReceipts(emit.stdout).count == 1, "\(emit.stdout)")
        }
        // Recording commands of the governance side record too, event and record both.
        let artifact = sandbox.root + "/app.bin"
        try Data("release 1".utf8).write(to: URL(fileURLWithPath: artifact))
        let sign = try sandbox.laforge(["snapshot", "sign", artifact, "--actor", "ops"])
        #expect(sign.status == 0, "\(sign.output)")
        let annotate = try sandbox.laforge(["annotate", "latest", "--comment", "looked at it", "--actor", "ops"])
        #expect(annotate.status == 0, "\(annotate.output)")
        let guardRun = try sandbox.laforge(["guard", "deploy", "latest", "--actor", "ops"])
        #expect([0, 1].contains(guardRun.status), "\(guardRun.output)")
        #expect(guardRun.stderr.contains("checkpoints follow when the key is back"), "\(guardRun.stderr)")
        let recorded = try actions(sandbox)
        #expect(recorded == ["schema.change", "schema.change", "schema.change", "snapshot.sign", "approval.annotate", "deploy.guard"], "\(recorded)")

        let down = try status(sandbox)
        #expect(down["entries"]?.intValue == 6)
        #expect(down["checkpoint_size"]?.intValue == 1)
        #expect(down["uncovered_entries"]?.intValue == 5, "\(down)")
        let text = try sandbox.laforge(["audit", "status"])
        #expect(text.stdout.contains("journal: 6 entries, newest checkpoint of size 1"), "\(text.output)")
        #expect(text.stdout.contains("uncovered: 5 entries no checkpoint covers yet"), "\(text.output)")
        // The metric, from the host API.
        let config = try sandbox.config()
        let captured = CapturedLog()
        let log = try AuditLog.open(config: config, logger: captured.logger)
        #expect(log.checkpointKeyProblem != nil)
        try log.emit(auditEvent("api"))
        #expect(log.metrics.sample("laforge_audit_uncovered_entries")?.value == 6)
        try log.close()
        #expect(captured.text.contains("entries are recorded without a checkpoint"), "\(captured.text)")
        // Verification sees the uncovered tail (a failure under --strict, a warning otherwise).
        #expect(try sandbox.verifyChain(["--key", keyPath + ".pub"]).status == 0)
        #expect(try sandbox.verifyChain(["--key", keyPath + ".pub", "--strict"]).status == 1)

        // The KMS back: the next command that records signs a checkpoint covering everything.
        try writeConfig(sandbox, moto)
        let back = try sandbox.laforge(["audit", "emit", "--actor", "after", "--action", "schema.change"])
        #expect(back.status == 0, "\(back.output)")
        #expect(!back.stderr.contains("checkpoints follow"), "\(back.stderr)")
        let recovered = try status(sandbox)
        #expect(recovered["uncovered_entries"]?.intValue == 0, "\(recovered)")
        #expect(recovered["checkpoint_size"]?.intValue == 8)
        let strict = try sandbox.verifyChain(["--key", keyPath + ".pub", "--strict"])
        #expect(strict.status == 0, "\(strict.result.output)")
    }

    /// With an audit log that cannot open at all (here: the wrapping backend is not configured),
    /// `snapshot sign` and `annotate` store nothing: never a record without its event.
    @Test func aSnapshotOrApprovalIsNeverStoredWithoutItsAuditEvent() throws {
        let moto = try MotoFixture.shared()
        let sandbox = try AuditSandbox()
        try writeConfig(sandbox, moto)
        let artifact = sandbox.root + "/app.bin"
        try Data("release 1".utf8).write(to: URL(fileURLWithPath: artifact))
        #expect(try sandbox.laforge(["snapshot", "sign", artifact, "--actor", "ops"]).status == 0)
        let chainPath = sandbox.stateDirectory + "/snapshots/chain.ndjson"
        let approvalsPath = sandbox.stateDirectory + "/snapshots/approvals.ndjson"
        let chainBefore = try Data(contentsOf: URL(fileURLWithPath: chainPath))
        let entriesBefore = try sandbox.journalEntries().count

        try writeConfig(sandbox, moto, backend: "missing")
        let sign = try sandbox.laforge(["snapshot", "sign", artifact, "--actor", "ops"])
        #expect(sign.status == 3, "\(sign.output)")
        #expect(sign.stderr.contains("key_wrapped_by"), "\(sign.stderr)")
        let annotate = try sandbox.laforge(["annotate", "latest", "--comment", "c", "--actor", "ops"])
        #expect(annotate.status == 3, "\(annotate.output)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: chainPath)) == chainBefore)
        #expect(!FileManager.default.fileExists(atPath: approvalsPath))
        try writeConfig(sandbox, moto)
        #expect(try sandbox.journalEntries().count == entriesBefore)
    }
}
