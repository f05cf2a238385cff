import LaForgeAudit
import LaForgeCore
import LaForgePlugins

/// One signed snapshot: the artifacts' digests at a moment, linked to the previous snapshot.
///
/// Its `hash` is SHA-256 of the RFC 8785 canonical JSON of every field except `hash` and
/// `signature` (the *body*, which holds `prev_hash`); the signature is Ed25519 over
/// `"laforge-snapshot-v1\n" ‖ hash` (32 raw bytes), so a signature can never be replayed as
/// another kind of record's. docs/SNAPSHOTS.md shows a record.
public struct Snapshot: Sendable, Equatable {
    public static let formatVersion = 1
    static let signingContext = Array("laforge-snapshot-v1\n".utf8)

    public var seq: UInt64
    public var createdAt: AuditTimestamp
    public var signer: AuditActor
    public var message: String?
    public var artifacts: [SnapshotArtifact]
    /// The previous snapshot's hash; nil for the first.
    public var prevHash: [UInt8]?
    public var hash: [UInt8]
    public var signature: RecordSignature

    /// The short id commands print and accept (any unique prefix of the hex hash is accepted).
    public var shortID: String { String(hash.hexString.prefix(12)) }

    /// Builds and signs a snapshot.
    public init(
        seq: UInt64, createdAt: AuditTimestamp, signer: AuditActor, message: String?, artifacts: [SnapshotArtifact],
        prevHash: [UInt8]?, key: Ed25519SigningKey
    ) {
        self.seq = seq
        self.createdAt = createdAt
        self.signer = signer
        self.message = message
        self.artifacts = artifacts
        self.prevHash = prevHash
        self.hash = []
        self.signature = RecordSignature(keyName: "", keyID: "", publicKey: [], signature: [])
        self.hash = computedHash()
        self.signature = RecordSignature(signing: signedMessage, with: key)
    }

    /// The bytes the signature covers.
    public var signedMessage: [UInt8] { Self.signingContext + hash }

    /// SHA-256 of the canonical body, as it should be; `hash` is what was stored.
    public func computedHash() -> [UInt8] {
        SHA256.hash(JSONCanonicalizer.canonicalize(.object(bodyMembers())))
    }

    private func bodyMembers() -> [String: JSONValue] {
        var members: [String: JSONValue] = [
            "version": .number(Double(Self.formatVersion)), "seq": .number(Double(seq)),
            "created_at": .string(createdAt.description), "signer": signer.snapshotJSON(),
            "artifacts": .array(artifacts.map { $0.jsonValue() }),
            "prev_hash": prevHash.map { .string($0.hexString) } ?? .null,
        ]
        if let message { members["message"] = .string(message) }
        return members
    }

    public func jsonValue() -> JSONValue {
        var members = bodyMembers()
        members["hash"] = .string(hash.hexString)
        members["signature"] = signature.jsonValue()
        return .object(members)
    }

    /// One line of the chain file: the canonical record.
    public func canonicalLine() -> [UInt8] { JSONCanonicalizer.canonicalize(jsonValue()) + [0x0A] }

    /// Parses a stored record; the reason when it is not one.
    public init(json: JSONValue) throws(SnapshotError) {
        func field<T>(_ name: String, _ value: T?) throws(SnapshotError) -> T {
            guard let value else { throw SnapshotError(.corrupt, "field \(name) is missing or malformed") }
            return value
        }
        guard json["version"]?.intValue == Self.formatVersion else {
            throw SnapshotError(.corrupt, "unsupported snapshot version \(json["version"].map { "\($0)" } ?? "none")")
        }
        let seq = try field("seq", json["seq"]?.intValue.flatMap { $0 >= 0 ? UInt64($0) : nil })
        let createdAt = try field("created_at", json["created_at"]?.stringValue.flatMap(AuditTimestamp.init(rfc3339:)))
        let signer = try field("signer", json["signer"].flatMap(AuditActor.init(snapshotJSON:)))
        let artifacts = try field("artifacts", json["artifacts"]?.arrayValue.map { $0.compactMap(SnapshotArtifact.init(json:)) })
        guard artifacts.count == json["artifacts"]?.arrayValue?.count else {
            throw SnapshotError(.corrupt, "field artifacts holds a malformed artifact")
        }
        var prevHash: [UInt8]?
        if let text = json["prev_hash"]?.stringValue {
            prevHash = try field("prev_hash", [UInt8](hexString: text).flatMap { $0.count == 32 ? $0 : nil })
        } else if json["prev_hash"]?.isNull != true {
            throw SnapshotError(.corrupt, "field prev_hash is missing or malformed")
        }
        let hash = try field("hash", json["hash"]?.stringValue.flatMap { [UInt8](hexString: $0) }.flatMap { $0.count == 32 ? $0 : nil })
        let signature = try field("signature", json["signature"].flatMap(RecordSignature.init(json:)))
        if let message = json["message"], message.stringValue == nil { throw SnapshotError(.corrupt, "field message is not a string") }
        self.seq = seq
        self.createdAt = createdAt
        self.signer = signer
        self.message = json["message"]?.stringValue
        self.artifacts = artifacts
        self.prevHash = prevHash
        self.hash = hash
        self.signature = signature
    }
}

extension AuditActor {
    /// `{"user": …, "roles": […]}`: who signed or approved (claims stay in the audit event).
    func snapshotJSON() -> JSONValue {
        .object(["user": .string(user), "roles": .array(roles.map(JSONValue.string))])
    }

    init?(snapshotJSON json: JSONValue) {
        guard let user = json["user"]?.stringValue, let roles = json["roles"]?.arrayValue else { return nil }
        let names = roles.compactMap(\.stringValue)
        guard names.count == roles.count else { return nil }
        self.init(user: user, roles: names)
    }
}
