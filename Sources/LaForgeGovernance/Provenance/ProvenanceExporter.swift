import Foundation
import LaForgeAudit
import LaForgeCore
import LaForgePlugins

/// `laforge provenance export`: an in-toto Statement v1 about a snapshot's artifacts, in a DSSE
/// envelope signed with the snapshot key.
///
/// Subjects are the artifacts (path and SHA-256); the predicate (type `predicateType`) holds the
/// snapshot record, its approvals with the policy's verdict, and the signed audit checkpoint
/// whose tree includes the snapshot's `snapshot.sign` event, with the RFC 6962 inclusion proof.
public struct ProvenanceExporter: Sendable {
    public static let statementType = "https://in-toto.io/Statement/v1"
    public static let predicateType = "https://laforge.dev/provenance/snapshot/v1"

    public let config: LaForgeConfig

    public init(config: LaForgeConfig) { self.config = config }

    public struct Export: Sendable {
        public var envelope: DSSEEnvelope
        public var statement: JSONValue
        public var snapshot: Snapshot
        /// The key that signed the envelope (give verifiers its `.pub`).
        public var key: Ed25519VerifierKey
        public var notices: [String]
    }

    public func export(snapshot reference: String, at time: AuditTimestamp = .now()) throws(SnapshotError) -> Export {
        let snapshot = try SnapshotChain(stateDirectory: config.stateDir).resolve(reference)
        let approvals = try ApprovalLog(stateDirectory: config.stateDir).approvals(of: snapshot)
        let tally = ApprovalTally(approvals: approvals, of: snapshot, policy: config.approvals, mode: config.mode)
        var notices: [String] = []
        let checkpoint = inclusion(of: snapshot, notices: &notices)
        let predicate: JSONValue = .object([
            "snapshot": snapshot.jsonValue(),
            "approvals": .array(approvals.map { $0.jsonValue() }),
            "approval_status": .object([
                "approved": .bool(tally.isApproved), "counted": .array(tally.counted.map { .string($0.approval.hash.hexString) }),
                "unmet": .array(tally.unmet.map(JSONValue.string)),
            ]),
            "checkpoint": checkpoint ?? .null,
            "exported_at": .string(time.description),
        ])
        let statement: JSONValue = .object([
            "_type": .string(Self.statementType),
            "subject": .array(snapshot.artifacts.map {
                .object(["name": .string($0.path), "digest": .object(["sha256": .string($0.sha256.hexString)])])
            }),
            "predicateType": .string(Self.predicateType),
            "predicate": predicate,
        ])
        let (key, notice) = try SnapshotKeys(config: config).signer()
        if let notice { notices.append(notice) }
        let envelope = DSSEEnvelope(
            signing: JSONCanonicalizer.canonicalize(statement), type: DSSEEnvelope.inTotoPayloadType, with: key)
        return Export(envelope: envelope, statement: statement, snapshot: snapshot, key: key.verifierKey, notices: notices)
    }

    /// The `snapshot.sign` entry, the newest checkpoint and the inclusion proof between them.
    private func inclusion(of snapshot: Snapshot, notices: inout [String]) -> JSONValue? {
        do {
            let reader = try AuditReader.open(config: config)
            let entries = try reader.scan(matching: AuditQuery(action: "snapshot.sign"))
            guard let entry = entries.last(where: {
                (try? AuditEntry.parse($0.payload).event["data"]?["snapshot_hash"]?.stringValue) == snapshot.hash.hexString
            }) else {
                notices.append("no snapshot.sign audit event for \(snapshot.shortID) in the journal: the provenance names no checkpoint")
                return nil
            }
            let proof = try reader.prove(seq: entry.seq)
            return .object([
                "journal_seq": .number(Double(proof.seq)), "entry_hash": .string(proof.leafHash.hexString),
                "tree_size": .number(Double(proof.treeSize)), "root_hash": .string(proof.rootHash.hexString),
                "inclusion_proof": .array(proof.proof.map { .string($0.hexString) }), "note": .string(proof.checkpointNote),
            ])
        } catch {
            notices.append("the snapshot's audit event is not covered by a checkpoint (\(error)): the provenance names no checkpoint")
            return nil
        }
    }
}
