import Foundation
import LaForgeAudit
import LaForgeCore
import LaForgeJournal
import LaForgePlugins

/// Verifies the snapshot chain link by link: each record's hash over its content, each
/// `prev_hash` against the record before, seq continuity, each signature and that its key is
/// trusted (the current snapshot key or a retired one in `snapshots.verifier_keys`), and that
/// every snapshot the audit journal saw signed is still in the chain (so removing the newest
/// snapshot is noticed too). Artifacts present on disk are re-hashed against the newest
/// snapshot that lists them.
public struct SnapshotVerifier: Sendable {
    public let config: LaForgeConfig
    public let chain: SnapshotChain
    public let trustedKeys: [Ed25519VerifierKey]
    /// Where relative artifact paths are resolved.
    public let artifactRoot: String

    public init(
        config: LaForgeConfig, extraKeys: [Ed25519VerifierKey] = [],
        artifactRoot: String = FileManager.default.currentDirectoryPath
    ) {
        self.config = config
        self.chain = SnapshotChain(stateDirectory: config.stateDir)
        self.trustedKeys = SnapshotKeys(config: config).trustedKeys(extra: extraKeys)
        self.artifactRoot = artifactRoot
    }

    /// The whole check: chain, journal cross-check, artifacts.
    public func verify() throws(SnapshotError) -> SnapshotVerificationReport {
        var report = try verifyChain()
        var newestByPath: [String: (Snapshot, SnapshotArtifact)] = [:]
        for snapshot in try chain.snapshots() {
            for artifact in snapshot.artifacts { newestByPath[artifact.path] = (snapshot, artifact) }
        }
        for path in newestByPath.keys.sorted() {
            let (snapshot, artifact) = newestByPath[path]!
            compare(artifact, of: snapshot, missingIsProblem: false, into: &report)
        }
        if report.artifactsAbsent > 0 {
            report.warnings.append(
                "\(report.artifactsAbsent) artifact\(report.artifactsAbsent == 1 ? " is" : "s are") not present under \(artifactRoot) and could not be re-hashed")
        }
        return report
    }

    /// Links, hashes, signatures and trust of every record, and the journal cross-check.
    public func verifyChain() throws(SnapshotError) -> SnapshotVerificationReport {
        var report = SnapshotVerificationReport()
        let (records, torn) = try chain.storedRecords()
        let trusted = Set(trustedKeys.map { $0.publicKey })
        var previous: Snapshot?
        var seen = Set<[UInt8]>()
        for record in records {
            let location = "\(chain.path):\(record.line)"
            guard let snapshot = record.snapshot else {
                report.problems.append(SnapshotProblem(kind: .malformed, location: location, message: record.problem ?? "not a snapshot"))
                previous = nil
                continue
            }
            report.snapshots += 1
            func problem(_ kind: SnapshotProblem.Kind, _ message: String) {
                report.problems.append(SnapshotProblem(kind: kind, seq: snapshot.seq, snapshot: snapshot.shortID, location: location, message: message))
            }
            let expectedSeq = previous.map { $0.seq + 1 } ?? (report.snapshots == 1 ? 0 : nil)
            if let expectedSeq, snapshot.seq > expectedSeq {
                problem(.snapshotMissing, expectedSeq == snapshot.seq - 1
                    ? "snapshot \(expectedSeq) is missing before it"
                    : "snapshots \(expectedSeq)…\(snapshot.seq - 1) are missing before it")
            } else if let expectedSeq, snapshot.seq < expectedSeq {
                problem(.reordered, "seq \(snapshot.seq) follows seq \(expectedSeq - 1)")
            } else if let previous, snapshot.prevHash != previous.hash {
                problem(.contentChanged, "prev_hash \(snapshot.prevHash?.hexString ?? "null") does not match the hash of snapshot \(previous.seq) (\(previous.hash.hexString))")
            } else if previous == nil, report.snapshots == 1, snapshot.prevHash != nil {
                problem(.snapshotMissing, "the first snapshot in the file links to an earlier one (\(snapshot.prevHash!.hexString)): the start of the chain was removed")
            }
            let computed = snapshot.computedHash()
            if computed != snapshot.hash {
                problem(.contentChanged, "the record's content hashes to \(computed.hexString), not its recorded hash \(snapshot.hash.hexString)")
            }
            report.signaturesChecked += 1
            if !snapshot.signature.isValid(for: snapshot.signedMessage) {
                problem(.signatureForged, "the signature does not verify under the key it names (\(snapshot.signature.keyDescription))")
            } else if !trusted.contains(snapshot.signature.publicKey) {
                problem(
                    .untrustedKey,
                    "signed by \(snapshot.signature.keyDescription), which is neither the snapshot key nor in snapshots.verifier_keys")
            }
            seen.insert(snapshot.hash)
            previous = snapshot
            report.newest = snapshot
        }
        if torn > 0 {
            report.warnings.append("\(chain.path): an interrupted last line (\(torn) bytes, never reported signed) is ignored; the next `snapshot sign` removes it")
        }
        crossCheckJournal(seen: seen, into: &report)
        try verifyApprovals(into: &report)
        return report
    }

    /// The approvals record: each record's hash, signature and link, and the journal's
    /// `approval.*` events against it (see `ApprovalLog.verify`).
    public func verifyApprovals(into report: inout SnapshotVerificationReport) throws(SnapshotError) {
        var recorded: [ApprovalLog.RecordedApproval]?
        if FileManager.default.fileExists(atPath: (config.stateDir as NSString).appendingPathComponent("journal")) {
            do {
                recorded = try AuditReader.open(config: config).scan(matching: AuditQuery(action: "approval.*")).compactMap { entry in
                    guard let event = try? AuditEntry.parse(entry.payload).event, let action = event["action"]?.stringValue,
                        let hex = event["data"]?["approval_hash"]?.stringValue, let hash = [UInt8](hexString: hex)
                    else { return nil }
                    return ApprovalLog.RecordedApproval(
                        journalSeq: entry.seq, action: action, approvalHash: hash,
                        snapshotHash: event["data"]?["snapshot_hash"]?.stringValue ?? "")
                }
            } catch {
                report.problems.append(SnapshotProblem(
                    kind: .malformed, location: (config.stateDir as NSString).appendingPathComponent("journal"),
                    message: "cannot cross-check the approvals against the audit journal: \(error.message)"))
            }
        }
        try ApprovalLog(stateDirectory: config.stateDir).verify(recorded: recorded, into: &report)
    }

    /// Every `snapshot.sign` event in the journal must name a snapshot still in the chain.
    private func crossCheckJournal(seen: Set<[UInt8]>, into report: inout SnapshotVerificationReport) {
        let journalDirectory = (config.stateDir as NSString).appendingPathComponent("journal")
        guard FileManager.default.fileExists(atPath: journalDirectory) else {
            if report.snapshots > 0 { report.warnings.append("no audit journal in \(config.stateDir) to cross-check the chain against") }
            return
        }
        let events: [JournalEntry]
        do {
            let reader = try AuditReader.open(config: config)
            events = try reader.scan(matching: AuditQuery(action: "snapshot.sign"))
        } catch {
            report.warnings.append("cannot cross-check against the audit journal: \(error.message)")
            return
        }
        var recorded = Set<[UInt8]>()
        for entry in events {
            guard let event = try? AuditEntry.parse(entry.payload).event,
                let hex = event["data"]?["snapshot_hash"]?.stringValue, let hash = [UInt8](hexString: hex)
            else { continue }
            report.auditEventsChecked += 1
            recorded.insert(hash)
            if !seen.contains(hash) {
                let seq = event["data"]?["seq"]?.intValue.map { UInt64($0) }
                report.problems.append(SnapshotProblem(
                    kind: .snapshotMissing, seq: seq, snapshot: String(hex.prefix(12)), location: "journal seq \(entry.seq)",
                    message: "the audit journal recorded signing snapshot \(hex), which is not in \(chain.path)"))
            }
        }
        let unrecorded = seen.subtracting(recorded).count
        if unrecorded > 0 {
            report.warnings.append("\(unrecorded) snapshot\(unrecorded == 1 ? " has" : "s have") no snapshot.sign event in the audit journal")
        }
    }

    /// Re-hashes one artifact of `snapshot`; a differing digest is a problem, an absent file is
    /// counted (and a problem when `missingIsProblem`, as for a deployment).
    func compare(_ artifact: SnapshotArtifact, of snapshot: Snapshot, missingIsProblem: Bool, into report: inout SnapshotVerificationReport) {
        let resolved = SnapshotArtifact.resolve(artifact.path, root: artifactRoot)
        guard FileManager.default.fileExists(atPath: resolved) else {
            report.artifactsAbsent += 1
            if missingIsProblem {
                report.problems.append(SnapshotProblem(
                    kind: .artifactMissing, seq: snapshot.seq, snapshot: snapshot.shortID, location: artifact.path,
                    message: "not present under \(artifactRoot), so it cannot be checked against the snapshot"))
            }
            return
        }
        report.artifactsChecked += 1
        let digest: [UInt8]
        do { digest = try SHA256.hash(fileAt: resolved) } catch {
            report.problems.append(SnapshotProblem(
                kind: .artifactChanged, seq: snapshot.seq, snapshot: snapshot.shortID, location: artifact.path,
                message: "cannot read it: \(error.localizedDescription)"))
            return
        }
        guard digest != artifact.sha256 else { return }
        let size = (try? FileManager.default.attributesOfItem(atPath: resolved)[.size] as? NSNumber)?.uint64Value
        report.problems.append(SnapshotProblem(
            kind: .artifactChanged, seq: snapshot.seq, snapshot: snapshot.shortID, location: artifact.path,
            message: "sha256 is \(digest.hexString) (\(size.map { "\($0)" } ?? "?") bytes), the snapshot recorded \(artifact.sha256.hexString) (\(artifact.size) bytes)"))
    }
}
