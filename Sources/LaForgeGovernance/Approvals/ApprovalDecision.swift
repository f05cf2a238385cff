/// What an approval record says about a snapshot. Annotations are comments that count neither way.
public enum ApprovalDecision: String, Sendable, CaseIterable {
    case approve, reject, annotate

    /// The audit action recorded for it.
    public var auditAction: String { "approval.\(rawValue)" }
}
