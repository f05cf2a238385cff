import Foundation
import LaForgeCore
import LaForgeJournal
import LaForgePlugins

/// Holds the copies a sink keeps beside the stored bytes (PostgresAudit's `hash`, `prev_hash`
/// and `root_hash` columns, the row's seq) against what the bytes give. The chain is verified
/// from the bytes alone, so an edited copy never breaks it; but queries over the sink read the
/// copies (`WHERE hash = …`, a join on `prev_hash`), so a copy that lies is a tamper too.
///
/// The first mismatch is kept, not reported at once: a gap or a reordering before it may still
/// be open in the verifier (its look-ahead), and the report names the first bad seq.
struct StoredColumnCheck {
    private(set) var first: VerificationFailure?

    /// An entry's copies. `leafHash` is the one the verifier was given for `record.data`.
    mutating func entry(_ record: StoredRecord, leafHash: [UInt8]) {
        guard first == nil, record.storedHash != nil || record.storedPrevHash != nil else { return }
        guard let link = AuditEntry.link(record.data) else { return }  // the verifier reports it
        if record.seq != link.seq {
            return keep(
                record.seq, record.location,
                "the row's seq column says \(record.seq), the entry's canonical text is seq \(link.seq): the seq column was edited, or the rows were moved")
        }
        if let stored = record.storedHash, !stored.elementsEqual(leafHash) {
            return keep(
                link.seq, record.location,
                "the row's hash column holds \([UInt8](stored).hexString), but its canonical text hashes to \(leafHash.hexString) "
                    + "(the text is what the chain links and the checkpoints sign): the hash column was edited, or the text")
        }
        if let stored = record.storedPrevHash, !stored.elementsEqual(link.prevHash.bytes) {
            return keep(
                link.seq, record.location,
                "the row's prev_hash column holds \([UInt8](stored).hexString), but its canonical text records prev_hash "
                    + "\(link.prevHash.bytes.hexString): the prev_hash column was edited")
        }
    }

    /// A checkpoint's copies: the root and tree size stored beside the note, against the note's
    /// (its signature is the verifier's to check).
    mutating func checkpoint(_ record: StoredRecord, note: String) {
        guard first == nil, let stored = record.storedHash else { return }
        let lines = note.split(separator: "\n", maxSplits: 3, omittingEmptySubsequences: false)
        guard lines.count >= 3, let size = UInt64(lines[1]), let root = Data(base64Encoded: String(lines[2])) else { return }
        if record.seq != size {
            return keep(
                size, record.location,
                "the row's tree_size column says \(record.seq), the signed note \(size): the tree_size column was edited")
        }
        if !stored.elementsEqual(root) {
            return keep(
                size, record.location,
                "the row's root_hash column holds \([UInt8](stored).hexString), the signed note's root is \([UInt8](root).hexString): the root_hash column was edited")
        }
    }

    private mutating func keep(_ seq: UInt64, _ location: String, _ message: String) {
        first = VerificationFailure(kind: .contentChanged, seq: seq, location: location, message: message)
    }

    /// `report` with the kept mismatch as its failure when nothing failed at an earlier (or the
    /// same) seq: a changed entry text breaks the chain at its own seq, and that message says more.
    func merged(into report: VerificationReport) -> VerificationReport {
        guard let first else { return report }
        if let failure = report.failure, (failure.seq ?? 0) <= first.seq! { return report }
        var merged = report
        merged.failure = first
        return merged
    }
}
