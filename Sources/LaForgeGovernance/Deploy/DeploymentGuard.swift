import Foundation
import LaForgeAudit
import LaForgeCore
import LaForgePlugins
import Logging

/// Decides whether a snapshot may be deployed: the check behind `laforge guard deploy` and the
/// compiler's deploy path.
///
/// Always: the snapshot exists and every artifact on disk has the digest it recorded (a deploy
/// ships exactly the signed bytes). `requireSigned`: the chain up to the snapshot verifies (links,
/// hashes) and its signature verifies under a trusted snapshot key. `requireApproved`: the
/// approvals policy is met. Production mode requires both whatever the caller asks.
public struct DeploymentGuard: Sendable {
    public let config: LaForgeConfig
    public let artifactRoot: String
    public let extraKeys: [Ed25519VerifierKey]
    public let logger: Logger

    public init(
        config: LaForgeConfig, artifactRoot: String = FileManager.default.currentDirectoryPath,
        extraKeys: [Ed25519VerifierKey] = [], logger: Logger = .host
    ) {
        self.config = config
        self.artifactRoot = artifactRoot
        self.extraKeys = extraKeys
        self.logger = logger
    }

    /// Evaluates without recording anything.
    public func evaluate(snapshot reference: String, requireSigned: Bool, requireApproved: Bool) throws(SnapshotError) -> DeploymentVerdict {
        let production = config.mode == .production
        let signedRequired = requireSigned || production
        let approvedRequired = requireApproved || production
        let verifier = SnapshotVerifier(config: config, extraKeys: extraKeys, artifactRoot: artifactRoot)
        let snapshot = try verifier.chain.resolve(reference)
        var unmet: [String] = []

        var artifacts = SnapshotVerificationReport()
        for artifact in snapshot.artifacts { verifier.compare(artifact, of: snapshot, missingIsProblem: true, into: &artifacts) }
        unmet += artifacts.problems.map { "artifact \($0.location): \($0.kind.rawValue): \($0.message)" }

        if signedRequired {
            let chain = try verifier.verifyChain()
            // Problems after this snapshot do not make it less signed; a damaged line anywhere
            // (seq unknown) might be it or an ancestor. An ancestor signed by a key no longer
            // trusted (a development key before production) is history, not tampering: the
            // snapshot's own trusted signature covers its link to it.
            for problem in chain.problems where problem.seq.map({ $0 <= snapshot.seq }) ?? true {
                if problem.kind == .untrustedKey, problem.seq != snapshot.seq { continue }
                unmet.append("not signed: \(problem)")
            }
        }

        let tally = ApprovalTally(
            approvals: try ApprovalLog(stateDirectory: config.stateDir).approvals(of: snapshot), of: snapshot,
            policy: config.approvals, mode: config.mode)
        if approvedRequired {
            // The approvals counted must be the ones recorded: a record removed (a signed
            // rejection deleted), changed or added outside laforge makes the tally untrustworthy.
            var approvals = SnapshotVerificationReport()
            try verifier.verifyApprovals(into: &approvals)
            unmet += approvals.problems.map { "not approved: approvals record: \($0)" }
            unmet += tally.unmet.map { "not approved: \($0)" }
        }
        return DeploymentVerdict(
            snapshot: snapshot, requiredSigned: signedRequired, requiredApproved: approvedRequired, approvals: tally, unmet: unmet)
    }

    /// Evaluates and records the decision as a `deploy.guard` audit event (outcome `success` or
    /// `denied`), acting as `actor`.
    public func check(
        snapshot reference: String, requireSigned: Bool, requireApproved: Bool, actor: AuditActor
    ) throws(SnapshotError) -> (verdict: DeploymentVerdict, notices: [String]) {
        let verdict = try evaluate(snapshot: reference, requireSigned: requireSigned, requireApproved: requireApproved)
        let event = AuditEvent(
            actor: actor, action: "deploy.guard", outcome: verdict.isAllowed ? .success : .denied,
            target: "snapshot:\(verdict.snapshot.shortID)", artifactHash: "sha256:" + verdict.snapshot.hash.hexString,
            data: [
                "snapshot_hash": .string(verdict.snapshot.hash.hexString), "require_signed": .bool(verdict.requiredSigned),
                "require_approved": .bool(verdict.requiredApproved),
                "unmet": .array(verdict.unmet.prefix(50).map { .string(String($0.prefix(1000))) }),
            ])
        let notices = try SnapshotAuditTrail.record([event], config: config, logger: logger).notices
        return (verdict, notices)
    }
}
