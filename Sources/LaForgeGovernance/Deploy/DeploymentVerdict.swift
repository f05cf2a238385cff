import LaForgeCore

/// The deployment guard's answer for one snapshot: allowed, or every requirement not met.
public struct DeploymentVerdict: Sendable {
    public var snapshot: Snapshot
    public var requiredSigned: Bool
    public var requiredApproved: Bool
    /// The tally of the snapshot's approvals (always computed, so a report can show it).
    public var approvals: ApprovalTally
    /// Every unmet requirement, in the order: artifacts, signature and chain, approvals.
    public var unmet: [String]

    public var isAllowed: Bool { unmet.isEmpty }

    public func jsonValue() -> JSONValue {
        .object([
            "allowed": .bool(isAllowed), "snapshot": .string(snapshot.hash.hexString), "seq": .number(Double(snapshot.seq)),
            "require_signed": .bool(requiredSigned), "require_approved": .bool(requiredApproved),
            "approvals_counted": .array(approvals.counted.map { .string($0.approval.actor.user) }),
            "unmet": .array(unmet.map(JSONValue.string)),
        ])
    }
}
