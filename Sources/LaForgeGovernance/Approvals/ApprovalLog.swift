import Foundation
import LaForgeCore

/// The approvals of a state directory: `<state_dir>/snapshots/approvals.ndjson`, append-only,
/// one canonical record per line, written under a lock and fsynced. Each record is also an
/// audit event (`approval.approve|reject|annotate`) in the journal.
public struct ApprovalLog: Sendable {
    let file: RecordFile

    public init(stateDirectory: String) {
        file = RecordFile(path: ((stateDirectory as NSString).appendingPathComponent("snapshots") as NSString).appendingPathComponent("approvals.ndjson"))
    }

    public var path: String { file.path }

    /// Every stored approval in file order; `problems` names lines that are not approvals.
    public func approvals() throws(SnapshotError) -> (approvals: [Approval], problems: [String]) {
        var approvals: [Approval] = []
        var problems: [String] = []
        for line in try file.lines().lines {
            do { approvals.append(try Approval(json: try JSONParser.parse(line.bytes))) } catch {
                problems.append("\(path):\(line.number): \(error)")
            }
        }
        return (approvals, problems)
    }

    /// The approvals of one snapshot, in the order they were recorded.
    public func approvals(of snapshot: Snapshot) throws(SnapshotError) -> [Approval] {
        try approvals().approvals.filter { $0.snapshotHash == snapshot.hash }
    }

    /// Appends the record `make` builds, given the hash of the last record (nil: none yet),
    /// holding the file's lock, so concurrent approvers each link to the record before them.
    /// Refuses to link to a damaged last record.
    func append(_ make: (_ previousHash: [UInt8]?) throws(SnapshotError) -> Approval) throws(SnapshotError) -> (Approval, notice: String?) {
        try file.withLock { () throws(SnapshotError) -> (Approval, notice: String?) in
            var previous: [UInt8]?
            if let last = try file.lines().lines.last {
                guard let approval = try? Approval(json: JSONParser.parse(last.bytes)), approval.computedHash() == approval.hash else {
                    throw SnapshotError(
                        .corrupt,
                        "\(path):\(last.number): the last approval record is damaged; run `laforge verify chain --snapshots` and restore the file")
                }
                previous = approval.hash
            }
            let approval = try make(previous)
            let notice = try file.append(JSONCanonicalizer.canonicalize(approval.jsonValue()) + [0x0A])
            return (approval, notice)
        }
    }
}
