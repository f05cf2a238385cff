import LaForgeCore
import LaForgePlugins

/// Counts a snapshot's approvals under the configured policy and says what is missing.
///
/// An approval counts when its record is intact, its signature (if any) verifies under a key of
/// `approvals.trusted_keys` bound to the same user, it is signed when the policy requires it,
/// and it is not the snapshot signer's own (unless `self_approval`). With `distinct_signers`
/// each user counts once, by their latest decision.
public struct ApprovalTally: Sendable {
    /// Approvals that count toward the quorum, with the roles they count for.
    public var counted: [(approval: Approval, roles: [String])] = []
    /// Standing rejections.
    public var rejections: [Approval] = []
    /// Approvals and rejections that do not count, and why.
    public var ignored: [(approval: Approval, reason: String)] = []
    /// Every requirement of the policy that is not met; empty when approved.
    public var unmet: [String] = []

    public var isApproved: Bool { unmet.isEmpty }

    public init(approvals: [Approval], of snapshot: Snapshot, policy: ApprovalPolicy, mode: LaForgeConfig.Mode) {
        let signedOnly = policy.signedOnly(mode: mode)
        var standing: [(approval: Approval, roles: [String])] = []
        var latestIndex: [String: Int] = [:]
        for approval in approvals where approval.snapshotHash == snapshot.hash && approval.decision != .annotate {
            let roles: [String]
            switch Self.check(approval, snapshot: snapshot, policy: policy, signedOnly: signedOnly) {
            case .failure(let reason):
                ignored.append((approval, reason))
                continue
            case .success(let effective):
                roles = effective
            }
            if policy.distinctSigners, let index = latestIndex[approval.actor.user] {
                standing[index] = (approval, roles)
            } else {
                latestIndex[approval.actor.user] = standing.count
                standing.append((approval, roles))
            }
        }
        counted = standing.filter { $0.approval.decision == .approve }
        rejections = standing.filter { $0.approval.decision == .reject }.map(\.approval)

        if counted.count < policy.quorum {
            var text = "quorum not met: \(counted.count) of \(policy.quorum) approval\(policy.quorum == 1 ? "" : "s")"
            if !counted.isEmpty { text += " (by \(counted.map(\.approval.actor.user).joined(separator: ", ")))" }
            unmet.append(text)
        }
        for role in policy.requiredRoles where !counted.contains(where: { $0.roles.contains(role) }) {
            unmet.append("no counted approval by the required role \(role)")
        }
        if policy.rejectionBlocks {
            for rejection in rejections {
                unmet.append("rejected by \(rejection.actor.user) at \(rejection.createdAt): \(quotedForMessage(rejection.comment))")
            }
        }
        for (approval, reason) in ignored where !unmet.isEmpty {
            unmet.append("not counted: \(approval.decision.rawValue) by \(approval.actor.user) (\(approval.shortID)): \(reason)")
        }
    }

    private enum Check { case success([String]), failure(String) }

    private static func check(_ approval: Approval, snapshot: Snapshot, policy: ApprovalPolicy, signedOnly: Bool) -> Check {
        guard approval.computedHash() == approval.hash else { return .failure("the record was changed after it was written") }
        var roles = approval.actor.roles
        if let signature = approval.signature {
            guard signature.isValid(for: approval.signedMessage) else {
                return .failure("its signature does not verify (\(signature.keyDescription))")
            }
            guard let trusted = policy.trustedApprovers.first(where: { $0.key.publicKey == signature.publicKey }) else {
                return .failure("signed by \(signature.keyDescription), a key not in approvals.trusted_keys")
            }
            guard trusted.user == approval.actor.user else {
                return .failure("signed by \(signature.keyDescription), which approvals.trusted_keys binds to \(trusted.user)")
            }
            if let allowed = trusted.roles { roles = roles.filter(allowed.contains) }
        } else if signedOnly {
            return .failure("unsigned, and the policy counts signed approvals only (approvals.require_signed, or production mode)")
        }
        if !policy.selfApproval, approval.decision == .approve, approval.actor.user == snapshot.signer.user {
            return .failure("\(approval.actor.user) signed the snapshot and may not approve it (approvals.self_approval)")
        }
        return .success(roles)
    }
}
