import LaForgeAudit
import LaForgeCore
import LaForgePlugins

/// One approval, rejection or annotation of a snapshot, as stored in
/// `<state_dir>/snapshots/approvals.ndjson`.
///
/// `hash` is SHA-256 of the canonical JSON of every field except `hash` and `signature`; that
/// body holds the snapshot's hash and the decision, so a signed approval (Ed25519 over
/// `"laforge-approval-v1\n" ‖ hash`) cannot be moved to another snapshot or turned around.
///
/// Version 2 records are chained: `prev_hash` is the hash of the record before it in the file
/// (null for the first), so a record removed, inserted or reordered breaks a link, and with the
/// journal's `approval.*` events (each naming its `approval_hash`) even the newest one removed is
/// noticed. Version 1 records (before the chain) are still read; they carry no link.
public struct Approval: Sendable, Equatable {
    public static let formatVersion = 2
    static let signingContext = Array("laforge-approval-v1\n".utf8)

    public var snapshotHash: [UInt8]
    public var decision: ApprovalDecision
    public var actor: AuditActor
    public var comment: String
    public var createdAt: AuditTimestamp
    /// The previous record's hash (version 2; nil for the first record and for version 1).
    public var prevHash: [UInt8]?
    public var version: Int
    public var hash: [UInt8]
    public var signature: RecordSignature?

    public init(
        snapshotHash: [UInt8], decision: ApprovalDecision, actor: AuditActor, comment: String, createdAt: AuditTimestamp,
        prevHash: [UInt8]?, key: Ed25519SigningKey?
    ) {
        self.snapshotHash = snapshotHash
        self.decision = decision
        self.actor = actor
        self.comment = comment
        self.createdAt = createdAt
        self.prevHash = prevHash
        self.version = Self.formatVersion
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
        var members: [String: JSONValue] = [
            "version": .number(Double(version)), "snapshot": .string(snapshotHash.hexString),
            "decision": .string(decision.rawValue), "actor": actor.snapshotJSON(), "comment": .string(comment),
            "created_at": .string(createdAt.description),
        ]
        if version >= 2 { members["prev_hash"] = prevHash.map { .string($0.hexString) } ?? .null }
        return members
    }

    public func jsonValue() -> JSONValue {
        var members = bodyMembers()
        members["hash"] = .string(hash.hexString)
        members["signature"] = signature?.jsonValue() ?? .null
        return .object(members)
    }

    public init(json: JSONValue) throws(SnapshotError) {
        guard let version = json["version"]?.intValue, (1...Self.formatVersion).contains(version),
            let snapshot = json["snapshot"]?.stringValue.flatMap({ [UInt8](hexString: $0) }), snapshot.count == 32,
            let decision = json["decision"]?.stringValue.flatMap(ApprovalDecision.init(rawValue:)),
            let actor = json["actor"].flatMap(AuditActor.init(snapshotJSON:)),
            let comment = json["comment"]?.stringValue,
            let createdAt = json["created_at"]?.stringValue.flatMap(AuditTimestamp.init(rfc3339:)),
            let hash = json["hash"]?.stringValue.flatMap({ [UInt8](hexString: $0) }), hash.count == 32
        else { throw SnapshotError(.corrupt, "not an approval record") }
        var prevHash: [UInt8]?
        if version >= 2 {
            switch json["prev_hash"] {
            case .null?: prevHash = nil
            case .string(let hex)?:
                guard let bytes = [UInt8](hexString: hex), bytes.count == 32 else { throw SnapshotError(.corrupt, "malformed prev_hash") }
                prevHash = bytes
            default: throw SnapshotError(.corrupt, "a version 2 approval record has a prev_hash (null for the first)")
            }
        }
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
        self.prevHash = prevHash
        self.version = version
        self.hash = hash
        self.signature = signature
    }
}
