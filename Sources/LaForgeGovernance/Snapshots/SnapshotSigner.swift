import Foundation
import LaForgeAudit
import LaForgeCore
import LaForgeJournal
import LaForgePlugins
import Logging

/// `laforge snapshot sign`: hashes the artifacts, appends a signed snapshot to the chain and
/// records a `snapshot.sign` audit event.
public struct SnapshotSigner: Sendable {
    public let config: LaForgeConfig
    public let logger: Logger

    public init(config: LaForgeConfig, logger: Logger = .host) {
        self.config = config
        self.logger = logger
    }

    public struct Result: Sendable {
        public var snapshot: Snapshot
        /// Things the operator should know (a generated key, a cut interrupted line).
        public var notices: [String]
        /// The `snapshot.sign` audit entry.
        public var auditSeq: UInt64?
    }

    /// Signs `paths` (files or directories; relative to `root`) as `actor`.
    public func sign(
        paths: [String], message: String?, actor: AuditActor, root: String = FileManager.default.currentDirectoryPath,
        at time: AuditTimestamp = .now()
    ) throws(SnapshotError) -> Result {
        guard !paths.isEmpty else { throw SnapshotError(.invalidInput, "name at least one artifact to sign") }
        if let message { try Self.checkText(message, field: "--message") }
        try Self.checkText(actor.user, field: "actor")
        let (key, keyNotice) = try SnapshotKeys(config: config).signer()
        let artifacts = try SnapshotArtifact.hashing(paths, root: root)
        let chain = SnapshotChain(stateDirectory: config.stateDir)
        // The event first: the audit log is opened before anything is stored, and the
        // snapshot.sign event is durable before the snapshot line is written (under the chain's
        // lock, so it names the exact snapshot). A failure to record stores nothing; a failure
        // to store after it leaves an event the snapshot verification reports, never a snapshot
        // without its event.
        let log = try SnapshotAuditTrail.open(config: config, logger: logger)
        var receipts: [JournalEntryReceipt] = []
        let (snapshot, appendNotice): (Snapshot, notice: String?)
        do throws(SnapshotError) {
            (snapshot, appendNotice) = try chain.append { last throws(SnapshotError) in
                let snapshot = Snapshot(
                    seq: last.map { $0.seq + 1 } ?? 0, createdAt: time, signer: actor, message: message, artifacts: artifacts,
                    prevHash: last?.hash, key: key)
                do throws(SnapshotError) {
                    receipts = try SnapshotAuditTrail.emit([Self.event(for: snapshot, message: message, actor: actor, time: time)], into: log)
                } catch {
                    throw SnapshotError(error.kind, "nothing was signed: the snapshot.sign audit event could not be recorded: \(error.message)")
                }
                return snapshot
            }
        } catch {
            log.journal.close()
            guard let receipt = receipts.first else { throw error }
            throw SnapshotError(
                error.kind, "the snapshot.sign event is recorded (seq \(receipt.seq)) but the snapshot could not be stored: \(error.message)")
        }
        try SnapshotAuditTrail.close(log)
        return Result(
            snapshot: snapshot, notices: [keyNotice, appendNotice].compactMap { $0 } + log.notices,
            auditSeq: receipts.first?.seq)
    }

    /// The `snapshot.sign` audit event of `snapshot`.
    static func event(for snapshot: Snapshot, message: String?, actor: AuditActor, time: AuditTimestamp) -> AuditEvent {
        var data: [String: JSONValue] = [
            "snapshot_hash": .string(snapshot.hash.hexString), "seq": .number(Double(snapshot.seq)),
            "prev_hash": snapshot.prevHash.map { .string($0.hexString) } ?? .null,
            "key": .string(snapshot.signature.keyDescription), "artifacts": .number(Double(snapshot.artifacts.count)),
        ]
        if let message { data["message"] = .string(message) }
        return AuditEvent(
            actor: actor, action: "snapshot.sign", timestamp: time, target: "snapshot:\(snapshot.shortID)",
            artifactHash: "sha256:" + snapshot.hash.hexString, data: data)
    }

    static func checkText(_ text: String, field: String) throws(SnapshotError) {
        do { try AuditEvent.checkText(text, field: field) } catch {
            throw SnapshotError(.invalidInput, error.description)
        }
    }
}
