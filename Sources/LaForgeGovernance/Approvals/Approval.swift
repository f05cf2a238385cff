import LaForgeAudit
import LaForgeCore
import LaForgePlugins

/// One approval, rejection or annotation of a snapshot, as stored in
/// `<state_dir>/snapshots/approvals.ndjson`.
///
/// `hash` is SHA-256 of the canonical JSON of every field except `hash` and `signature`; that
/// body holds the snapshot's hash and the decision, so a signed approval (Ed25519 over
/// `"laforge-approval-v1\n" ‖ hash`) cannot be moved to another snapshot or turned around.
public struct Approval: Sendable, Equatable {
    public static let formatVersion = 1
    static let signingContext = Array("laforge-approval-v1\n".utf8)

    public var snapshotHash: [UInt8]
    public var decision: ApprovalDecision
    public var actor: AuditActor
    public var comment: String
    public var createdAt: AuditTimestamp
    public var hash: [UInt8]
    public var signature: RecordSignature?

    public init(
        snapshotHash: [UInt8], decision: ApprovalDecision, actor: AuditActor, comment: String, createdAt: AuditTimestamp,
        key: Ed25519SigningKey?
    ) {
        self.snapshotHash = snapshotHash
        self.decision = decision
        self.actor = actor
        self.comment = comment
        self.createdAt = createdAt
        self.hash = []
        self.hash = computedHash()
        self.signature = key.map { RecordSignature(signing: signedMessage, with: $0) }
    }

    public var signedMessage: [UInt8] { Self.signingContext + hash }
    public var shortID: String { String(hash.hexString.prefix(12)) }

    public func computedHash() -> [UInt8] {
        SHA256.hash(JSONCanonicalizer.canonicalize(.object(bodyMembers())))
    }

    private func bodyMembers() -> [String: JSONValue] {
        [
            "version": .number(Double(Self.formatVersion)), "snapshot": .string(snapshotHash.hexString),
            "decision": .string(decision.rawValue), "actor": actor.snapshotJSON(), "comment": .string(comment),
            "created_at": .string(createdAt.description),
        ]
    }

    public func jsonValue() -> JSONValue {
        var members = bodyMembers()
        members["hash"] = .string(hash.hexString)
        members["signature"] = signature?.jsonValue() ?? .null
        return .object(members)
    }

    public init(json: JSONValue) throws(SnapshotError) {
        guard json["version"]?.intValue == Self.formatVersion,
            let snapshot = json["snapshot"]?.stringValue.flatMap({ [UInt8](hexString: $0) }), snapshot.count == 32,
            let decision = json["decision"]?.stringValue.flatMap(ApprovalDecision.init(rawValue:)),
            let actor = json["actor"].flatMap(AuditActor.init(snapshotJSON:)),
            let comment = json["comment"]?.stringValue,
            let createdAt = json["created_at"]?.stringValue.flatMap(AuditTimestamp.init(rfc3339:)),
            let hash = json["hash"]?.stringValue.flatMap({ [UInt8](hexString: $0) }), hash.count == 32
        else { throw SnapshotError(.corrupt, "not an approval record") }
        var signature: RecordSignature?
        if let value = json["signature"], !value.isNull {
            guard let parsed = RecordSignature(json: value) else { throw SnapshotError(.corrupt, "malformed signature") }
            signature = parsed
        }
        self.snapshotHash = snapshot
        self.decision = decision
        self.actor = actor
        self.comment = comment
        self.createdAt = createdAt
        self.hash = hash
        self.signature = signature
    }
}
