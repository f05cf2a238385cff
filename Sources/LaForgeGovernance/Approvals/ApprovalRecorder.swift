import Foundation
import LaForgeAudit
import LaForgeCore
import LaForgeJournal
import LaForgePlugins
import Logging

/// `laforge approve|reject|annotate`: stores an approval record (signed when a key is given)
/// and records it as an `approval.*` audit event.
public struct ApprovalRecorder: Sendable {
    public let config: LaForgeConfig
    public let logger: Logger

    public init(config: LaForgeConfig, logger: Logger = .host) {
        self.config = config
        self.logger = logger
    }

    public struct Result: Sendable {
        public var approval: Approval
        public var snapshot: Snapshot
        /// Things to tell the operator (a key that will not count, a generated key).
        public var notices: [String]
    }

    public func record(
        _ decision: ApprovalDecision, snapshot reference: String, actor: AuditActor, comment: String,
        key: Ed25519SigningKey?, at time: AuditTimestamp = .now()
    ) throws(SnapshotError) -> Result {
        try SnapshotSigner.checkText(actor.user, field: "actor")
        for role in actor.roles { try SnapshotSigner.checkText(role, field: "role") }
        try SnapshotSigner.checkText(comment, field: "--comment")
        let snapshot = try SnapshotChain(stateDirectory: config.stateDir).resolve(reference)
        var notices: [String] = []
        if let key, decision != .annotate {
            if let trusted = config.approvals.trustedApprovers.first(where: { $0.key.publicKey == key.verifierKey.publicKey }) {
                if trusted.user != actor.user {
                    notices.append("this \(decision.rawValue) will not count: approvals.trusted_keys binds \(key.verifierKey) to \(trusted.user), not \(actor.user)")
                }
            } else {
                notices.append("this \(decision.rawValue) will not count: \(key.verifierKey) is not in approvals.trusted_keys")
            }
        } else if key == nil, decision != .annotate, config.approvals.signedOnly(mode: config.mode) {
            notices.append("this \(decision.rawValue) is unsigned and will not count: the policy counts signed approvals only (use --sign)")
        }
        // The event first (see SnapshotSigner.sign): the log opens before anything is stored,
        // and the approval.* event is durable before the approval line is written (under the
        // file's lock, so the event names the exact, chained record).
        let log = try SnapshotAuditTrail.open(config: config, logger: logger)
        var receipts: [JournalEntryReceipt] = []
        let approval: Approval
        do throws(SnapshotError) {
            let (stored, notice) = try ApprovalLog(stateDirectory: config.stateDir).append { previous throws(SnapshotError) in
                let approval = Approval(
                    snapshotHash: snapshot.hash, decision: decision, actor: actor, comment: comment, createdAt: time,
                    prevHash: previous, key: key)
                let event = AuditEvent(
                    actor: actor, action: decision.auditAction, timestamp: time, target: "snapshot:\(snapshot.shortID)",
                    artifactHash: "sha256:" + snapshot.hash.hexString,
                    data: [
                        "approval_hash": .string(approval.hash.hexString), "snapshot_hash": .string(snapshot.hash.hexString),
                        "decision": .string(decision.rawValue), "comment": .string(comment),
                        "key": approval.signature.map { .string($0.keyDescription) } ?? .null,
                    ])
                do throws(SnapshotError) { receipts = try SnapshotAuditTrail.emit([event], into: log) } catch {
                    throw SnapshotError(
                        error.kind, "nothing was stored: the \(decision.rawValue) of \(snapshot.shortID) could not be recorded as an audit event: \(error.message)")
                }
                return approval
            }
            approval = stored
            if let notice { notices.append(notice) }
        } catch {
            log.journal.close()
            guard let receipt = receipts.first else { throw error }
            throw SnapshotError(
                error.kind,
                "the \(decision.rawValue) of \(snapshot.shortID) is recorded as an audit event (seq \(receipt.seq)) but could not be stored: \(error.message)")
        }
        try SnapshotAuditTrail.close(log)
        notices += log.notices
        return Result(approval: approval, snapshot: snapshot, notices: notices)
    }

    /// The approver's signing key for `--sign`: `path`, else `approvals.key_file`.
    public func signingKey(path: String?) throws(SnapshotError) -> Ed25519SigningKey {
        guard let configured = path ?? config.approvals.keyFile else {
            throw SnapshotError(.configuration, "--sign needs the approver's key: pass --key PATH (from `laforge keys generate`) or set approvals.key_file")
        }
        let resolved = path ?? AuditKeys(config: config).path(configured: configured, defaultName: "approver")
        do { return try Ed25519SigningKey(contentsOfFile: resolved) } catch {
            throw SnapshotError(.configuration, error.message)
        }
    }
}
