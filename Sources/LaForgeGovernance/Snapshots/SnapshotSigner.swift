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
        let (snapshot, appendNotice) = try chain.append { last throws(SnapshotError) in
            Snapshot(
                seq: last.map { $0.seq + 1 } ?? 0, createdAt: time, signer: actor, message: message, artifacts: artifacts,
                prevHash: last?.hash, key: key)
        }
        var data: [String: JSONValue] = [
            "snapshot_hash": .string(snapshot.hash.hexString), "seq": .number(Double(snapshot.seq)),
            "prev_hash": snapshot.prevHash.map { .string($0.hexString) } ?? .null,
            "key": .string(snapshot.signature.keyDescription), "artifacts": .number(Double(artifacts.count)),
        ]
        if let message { data["message"] = .string(message) }
        let event = AuditEvent(
            actor: actor, action: "snapshot.sign", timestamp: time, target: "snapshot:\(snapshot.shortID)",
            artifactHash: "sha256:" + snapshot.hash.hexString, data: data)
        let recorded: (receipts: [JournalEntryReceipt], notices: [String])
        do { recorded = try SnapshotAuditTrail.record([event], config: config, logger: logger) } catch {
            throw SnapshotError(
                error.kind,
                "snapshot \(snapshot.shortID) is signed and in the chain, but its audit event was not recorded: \(error.message)")
        }
        return Result(
            snapshot: snapshot, notices: [keyNotice, appendNotice].compactMap { $0 } + recorded.notices,
            auditSeq: recorded.receipts.first?.seq)
    }

    static func checkText(_ text: String, field: String) throws(SnapshotError) {
        do { try AuditEvent.checkText(text, field: field) } catch {
            throw SnapshotError(.invalidInput, error.description)
        }
    }
}
