import LaForgeCore

/// One thing snapshot verification found wrong, located by snapshot seq and id and by the line of
/// the chain file (or the artifact's path).
public struct SnapshotProblem: Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// A snapshot's bytes differ from what was hashed and signed, or a link does not match.
        case contentChanged = "content changed"
        /// A gap in seq, or a snapshot the audit journal recorded is not in the chain.
        case snapshotMissing = "snapshot missing"
        /// Snapshots are present but out of order.
        case reordered
        /// A signature does not verify under the key it names.
        case signatureForged = "signature forged"
        /// A signature verifies, but under a key that is not trusted.
        case untrustedKey = "untrusted key"
        /// An artifact's bytes on disk differ from the digest the snapshot recorded.
        case artifactChanged = "artifact changed"
        /// An artifact a deployment needs is not there to check.
        case artifactMissing = "artifact missing"
        /// A line is not a snapshot (or approval) record.
        case malformed
        /// An approval the audit journal recorded is not in approvals.ndjson, or the start of
        /// the approvals chain was removed.
        case approvalMissing = "approval missing"
        /// An approval record has no audit event: it was added outside laforge.
        case approvalUnrecorded = "approval unrecorded"
    }

    public var kind: Kind
    public var seq: UInt64?
    public var snapshot: String?
    public var location: String
    public var message: String

    public var description: String {
        var text = "\(kind.rawValue)"
        if let seq { text += " at snapshot \(seq)" }
        if let snapshot { text += " (\(snapshot))" }
        return text + ": \(location): \(message)"
    }

    public func jsonValue() -> JSONValue {
        .object([
            "kind": .string(kind.rawValue), "seq": seq.map { .number(Double($0)) } ?? .null,
            "snapshot": snapshot.map(JSONValue.string) ?? .null, "location": .string(location), "message": .string(message),
        ])
    }
}
