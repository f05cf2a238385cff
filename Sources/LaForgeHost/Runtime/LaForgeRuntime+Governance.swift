import Foundation

/// Snapshots and the deployment guard through the runtime: the same checks and audit events as
/// `laforge snapshot sign`, `laforge verify snapshots` and `laforge guard deploy`, with the
/// runtime's configuration and logger. Their audit events go into the same journal (the
/// journal serializes writers, in this process or others).
extension LaForgeRuntime {
    /// Signs a new snapshot over `paths` (files or directories, relative to `root`) as `actor`
    /// and records a `snapshot.sign` event.
    public func signSnapshot(
        paths: [String], message: String? = nil, actor: AuditActor, root: String = FileManager.default.currentDirectoryPath
    ) throws(LaForgeRuntimeError) -> SnapshotSigner.Result {
        try admit()
        defer { release() }
        do {
            let result = try SnapshotSigner(config: config, logger: logger).sign(paths: paths, message: message, actor: actor, root: root)
            for notice in result.notices { logger.notice("\(notice)") }
            return result
        } catch {
            throw .snapshot(error)
        }
    }

    /// Verifies the snapshot chain (links, hashes, signatures under trusted keys), its
    /// cross-check with the journal, and the artifacts on disk under `artifactRoot`.
    public func verifySnapshots(
        extraKeys: [Ed25519VerifierKey] = [], artifactRoot: String = FileManager.default.currentDirectoryPath
    ) throws(LaForgeRuntimeError) -> SnapshotVerificationReport {
        try admit()
        defer { release() }
        do { return try SnapshotVerifier(config: config, extraKeys: extraKeys, artifactRoot: artifactRoot).verify() } catch {
            throw .snapshot(error)
        }
    }

    /// Decides whether `snapshot` (`latest` or an id prefix) may be deployed and records the
    /// decision as a `deploy.guard` event. Production mode requires signed and approved.
    public func guardDeploy(
        snapshot: String, requireSigned: Bool = false, requireApproved: Bool = false, actor: AuditActor,
        extraKeys: [Ed25519VerifierKey] = [], artifactRoot: String = FileManager.default.currentDirectoryPath
    ) throws(LaForgeRuntimeError) -> DeploymentVerdict {
        try admit()
        defer { release() }
        do {
            let (verdict, notices) = try DeploymentGuard(config: config, artifactRoot: artifactRoot, extraKeys: extraKeys, logger: logger)
                .check(snapshot: snapshot, requireSigned: requireSigned, requireApproved: requireApproved, actor: actor)
            for notice in notices { logger.notice("\(notice)") }
            return verdict
        } catch {
            throw .snapshot(error)
        }
    }
}
