import LaForgeCore

/// What `laforge verify chain --snapshots` found: counts, and every problem (not only the first:
/// a reviewer wants the whole list of what differs).
public struct SnapshotVerificationReport: Sendable {
    public var snapshots = 0
    public var signaturesChecked = 0
    public var artifactsChecked = 0
    public var artifactsAbsent = 0
    /// `snapshot.sign` audit events matched against the chain.
    public var auditEventsChecked = 0
    /// Approval records checked (hash, link, signature) and matched against the journal.
    public var approvals = 0
    public var newest: Snapshot?
    public var problems: [SnapshotProblem] = []
    public var warnings: [String] = []

    public init() {}

    public var isValid: Bool { problems.isEmpty }

    public func jsonValue() -> JSONValue {
        .object([
            "valid": .bool(isValid), "snapshots": .number(Double(snapshots)),
            "signatures_checked": .number(Double(signaturesChecked)),
            "artifacts_checked": .number(Double(artifactsChecked)), "artifacts_absent": .number(Double(artifactsAbsent)),
            "audit_events_checked": .number(Double(auditEventsChecked)), "approvals": .number(Double(approvals)),
            "newest": newest.map { .string($0.hash.hexString) } ?? .null,
            "problems": .array(problems.map { $0.jsonValue() }), "warnings": .array(warnings.map(JSONValue.string)),
        ])
    }
}
