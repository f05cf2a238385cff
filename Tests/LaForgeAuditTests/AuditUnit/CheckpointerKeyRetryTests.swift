import Foundation
import Testing
@testable import LaForgeTestSupport

@testable import LaForgeAudit
@testable import LaForgeCore
@testable import LaForgeJournal
@testable import LaForgePlugins

/// #17 item 10, in a process that keeps running (an embedder, `audit deliver --follow`): while
/// the checkpoint key cannot be had, signing attempts sign nothing and count the uncovered
/// entries; the key is asked for again with backoff (not on every append), and the first
/// attempt that gets it signs one checkpoint covering everything recorded meanwhile.
@Suite struct CheckpointerKeyRetryTests {
    final class Attempts: @unchecked Sendable {
        let count = LockedValue(0)
        let failuresLeft: LockedValue<Int>
        init(failing: Int) { failuresLeft = LockedValue(failing) }
    }

    @Test func aKeyThatComesBackSignsOneCheckpointOverEverythingRecordedMeanwhile() throws {
        let sandbox = try AuditSandbox()
        try sandbox.writeConfig(audit: "  checkpoints:\n    every_entries: 1\n    every_ms: 0\n")
        let config = try sandbox.config()
        let captured = CapturedLog()
        let log = try AuditLog.open(config: config, logger: captured.logger)
        defer { log.journal.close() }
        let key = try AuditKeys(config: config).checkpointSigner(origin: log.origin).0
        let attempts = Attempts(failing: 1)
        let metrics = MetricsRegistry(logger: captured.logger)
        let checkpointer = Checkpointer(
            signer: nil, unavailable: AuditLogError(.keyUnavailable, "the KMS is down"), otherVerifiers: [key.verifierKey],
            origin: log.origin, settings: config.audit.checkpoints, metrics: metrics, logger: captured.logger,
            loadSigner: { () throws(AuditLogError) -> Ed25519SigningKey in
                attempts.count.withLock { $0 += 1 }
                let fail = attempts.failuresLeft.withLock { left -> Bool in
                    defer { left -= 1 }
                    return left > 0
                }
                if fail { throw AuditLogError(.keyUnavailable, "the KMS is still down") }
                return key
            })
        for seq in 0..<5 {
            _ = try log.journal.append([auditEvent("u\(seq)").canonicalBytes()])
            #expect(try checkpointer.signIfDue(log.journal, force: true) == nil)
        }
        #expect(metrics.sample("laforge_audit_uncovered_entries")?.value == 5)
        #expect(checkpointer.signerProblem != nil)
        // Five appends asked the KMS at most once more (the wait after the open's failure is 1 s).
        #expect(attempts.count.withLock { $0 } == 0)
        #expect(throws: AuditLogError.self) { try checkpointer.signIfDue(log.journal, force: true, receiptRequired: true) }

        // After the wait: one more failure (the wait doubles), then the key is back.
        var signed: UInt64?
        let deadline = Date().addingTimeInterval(10)
        while signed == nil, Date() < deadline {
            usleep(100_000)
            signed = try checkpointer.signIfDue(log.journal, force: true)
        }
        #expect(signed == 5)
        #expect(attempts.count.withLock { $0 } == 2)
        #expect(checkpointer.signerProblem == nil)
        #expect(metrics.sample("laforge_audit_uncovered_entries")?.value == 0)
        #expect(captured.text.contains("the checkpoint signing key is available again"), "\(captured.text)")
        #expect(try sandbox.verifyChain(["--strict"]).status == 0)
    }
}
