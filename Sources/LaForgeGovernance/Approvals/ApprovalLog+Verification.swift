import LaForgeAudit
import LaForgeCore

extension ApprovalLog {
    /// One `approval.*` event of the audit journal: the approval record it witnessed.
    struct RecordedApproval {
        var journalSeq: UInt64
        var action: String
        var approvalHash: [UInt8]
        var snapshotHash: String
    }

    /// Checks every record (its hash over its content, its signature, its link to the record
    /// before) and, with the journal's `approval.*` events (`recorded`, nil when there is no
    /// journal), that every approval the journal witnessed is still in the file and every
    /// chained record was witnessed. Deleting a signed rejection is therefore caught whether it
    /// was the last record (only the journal remembers it) or not (a link breaks too).
    func verify(recorded: [RecordedApproval]?, into report: inout SnapshotVerificationReport) throws(SnapshotError) {
        var previous: Approval?
        var stored: [[UInt8]: Approval] = [:]
        for (index, line) in try file.lines().lines.enumerated() {
            let location = "\(path):\(line.number)"
            let approval: Approval
            do { approval = try Approval(json: try JSONParser.parse(line.bytes)) } catch {
                report.problems.append(SnapshotProblem(kind: .malformed, location: location, message: "not an approval record: \(error)"))
                previous = nil
                continue
            }
            report.approvals += 1
            func problem(_ kind: SnapshotProblem.Kind, _ message: String) {
                report.problems.append(SnapshotProblem(
                    kind: kind, snapshot: String(approval.snapshotHash.hexString.prefix(12)), location: location,
                    message: "\(approval.decision.rawValue) by \(approval.actor.user) (\(approval.shortID)): \(message)"))
            }
            let computed = approval.computedHash()
            if computed != approval.hash {
                problem(.contentChanged, "the record's content hashes to \(computed.hexString), not its recorded hash \(approval.hash.hexString)")
            }
            if let signature = approval.signature, !signature.isValid(for: approval.signedMessage) {
                problem(.signatureForged, "the signature does not verify under the key it names (\(signature.keyDescription))")
            }
            if approval.version >= 2 {
                if index == 0, let link = approval.prevHash {
                    problem(.approvalMissing, "the first record links to an earlier one (\(link.hexString)): the start of the file was removed")
                } else if let previous, approval.prevHash != previous.hash {
                    problem(
                        .contentChanged,
                        "its prev_hash \(approval.prevHash?.hexString ?? "null") is not the hash of the record before it (\(previous.hash.hexString)): "
                            + "a record was removed, inserted or reordered here")
                }
            }
            stored[approval.hash] = approval
            previous = approval
        }
        guard let recorded else {
            if report.approvals > 0 { report.warnings.append("no audit journal to cross-check \(path) against") }
            return
        }
        var witnessed = Set<[UInt8]>()
        for event in recorded {
            witnessed.insert(event.approvalHash)
            guard stored[event.approvalHash] == nil else { continue }
            report.problems.append(SnapshotProblem(
                kind: .approvalMissing, snapshot: String(event.snapshotHash.prefix(12)), location: "journal seq \(event.journalSeq)",
                message: "the audit journal recorded \(event.action) \(event.approvalHash.hexString) of snapshot \(event.snapshotHash), "
                    + "which is not in \(path): the record was removed"))
        }
        for (hash, approval) in stored where !witnessed.contains(hash) {
            if approval.version >= 2 {
                report.problems.append(SnapshotProblem(
                    kind: .approvalUnrecorded, snapshot: String(approval.snapshotHash.hexString.prefix(12)), location: path,
                    message: "\(approval.decision.rawValue) by \(approval.actor.user) (\(approval.shortID)) has no \(approval.decision.auditAction) event in the audit journal: it was added outside laforge"))
            } else {
                report.warnings.append("approval \(approval.shortID) (written before approvals were chained) has no audit event to match")
            }
        }
    }
}
