import Foundation
import LaForgeCore
import LaForgeJournal

/// Verifies a chain as a stream of entries and checkpoints in storage order, checking every
/// link rather than the ends (immudb GHSA-672p-m5jq-mrh8): each entry's hash is recomputed and
/// compared with the next entry's prev_hash, seq must be contiguous, the Merkle tree is rebuilt
/// leaf by leaf and compared with every checkpoint's root, every checkpoint signature is checked,
/// and checkpoints must grow monotonically over the same leaves (so each is consistent with the
/// ones before it). Stops at the first failure and names its seq.
///
/// Signature checks are per checkpoint, never per entry, so their cost follows the checkpoint
/// count. The same verifier serves the journal, FileSink file sets and sinks read back.
public final class ChainVerifier {
    private let verifierKeys: [Ed25519VerifierKey]
    private let origin: String?
    private let chainID: String?
    private var frontier = MerkleFrontier()
    /// The next seq expected; nil until the stream says where it starts.
    private var expected: UInt64?
    private var previousHash: ChainHash?
    /// The entry (or checkpoint) after a gap, while looking ahead for the missing entry.
    private var pending: (seq: UInt64, location: EntryLocation)?
    private var lastEntryLocation = EntryLocation.described("")
    /// The configured chain id's UTF-8, compared with each entry's bytes.
    private let chainIDBytes: [UInt8]?
    private var lookedAhead = 0
    /// Set while looking ahead after a checkpoint that covers entries not yet seen.
    private var pendingCheckpoint: (first: UInt64, location: String, size: UInt64)?
    /// How many records after a gap are searched for the missing entry before calling it missing.
    static let reorderWindow = 4096
    public private(set) var report = VerificationReport()

    public static let frontierExtensionPrefix = MerkleFrontier.checkpointExtensionPrefix

    public init(verifierKeys: [Ed25519VerifierKey], origin: String? = nil, chainID: String? = nil) {
        self.verifierKeys = verifierKeys
        self.origin = origin
        self.chainID = chainID
        chainIDBytes = chainID.map { Array($0.utf8) }
    }

    public var hasFailed: Bool { report.failure != nil }

    private func fail(_ kind: VerificationFailure.Kind, _ seq: UInt64?, _ location: String, _ message: String) -> Bool {
        if report.failure == nil {
            report.failure = VerificationFailure(kind: kind, seq: seq, location: location, message: message)
        }
        return false
    }

    /// Feeds one entry's stored bytes. False once the chain is known to be bad.
    @discardableResult
    public func entry(_ bytes: [UInt8], location: String) -> Bool {
        bytes.withUnsafeBytes { entry($0, at: .described(location)) }
    }

    /// Feeds one entry's stored bytes, borrowed for the call only (a journal read window, a line
    /// of a file read in blocks). False once the chain is known to be bad.
    @discardableResult
    public func entry(_ bytes: UnsafeRawBufferPointer, at location: EntryLocation) -> Bool {
        guard !hasFailed else { return false }
        guard let link = AuditEntry.link(bytes) else {
            return fail(.contentChanged, expected, location.description, "not a canonical audit entry (the line was altered or is not an entry)")
        }
        if let chainIDBytes, !bytes[link.chainID].elementsEqual(chainIDBytes) {
            // Different bytes can still be the same string (canonically equivalent Unicode).
            let found = String(decoding: bytes[link.chainID], as: UTF8.self)
            if let chainID, found != chainID {
                return fail(.contentChanged, link.seq, location.description, "belongs to chain \"\(found)\", not \"\(chainID)\"")
            }
        }
        if let waiting = pending {
            // After a gap, look ahead a while: if the missing entry turns up later the
            // entries were reordered, otherwise they are missing.
            if link.seq == expected {
                pending = nil
                let what = pendingCheckpoint.map { "the checkpoint of size \($0.size)" } ?? "entry \(waiting.seq)"
                pendingCheckpoint = nil
                return fail(.reordered, link.seq, location.description, "entry \(link.seq) comes after \(what) (\(waiting.location))")
            }
            lookedAhead += 1
            if lookedAhead >= Self.reorderWindow {
                pending = nil
                return reportGap(waiting)
            }
            return true
        }
        if expected == nil {
            guard link.seq == 0 else {
                return fail(.entryMissing, 0, location.description, "the input starts at entry \(link.seq) with no checkpoint before it to start from")
            }
            expected = 0
        }
        let want = expected!
        if link.seq > want {
            pending = (link.seq, location)
            lookedAhead = 0
            return true
        }
        if link.seq < want {
            return fail(.reordered, link.seq, location.description, "entry \(link.seq) appears again after entry \(want - 1)")
        }
        return accept(bytes, link: link, location: location)
    }

    private func accept(_ bytes: UnsafeRawBufferPointer, link: AuditEntry.Link, location: EntryLocation) -> Bool {
        let want = link.seq
        if want == 0 && link.prevHash != .zero {
            return fail(.contentChanged, 0, location.description, "the first entry's prev_hash must be all zeros")
        }
        if let previousHash, link.prevHash != previousHash {
            return fail(
                .contentChanged, want - 1, lastEntryLocation.description,
                "entry \(want - 1)'s hash \(previousHash.bytes.hexString.prefix(16))… differs from the prev_hash entry \(want) "
                    + "recorded (\(link.prevHash.bytes.hexString.prefix(16))…): entry \(want - 1) was changed, or entry \(want)'s prev_hash was")
        }
        let hash = SHA256.leafHash(bytes)
        frontier.append(hash)
        previousHash = ChainHash(hash)
        expected = want + 1
        lastEntryLocation = location
        if report.firstSeq == nil { report.firstSeq = want }
        report.lastSeq = want
        report.entries += 1
        return true
    }

    /// Reports a gap that the look-ahead did not close: entries before an entry or a checkpoint
    /// that are absent.
    private func reportGap(_ waiting: (seq: UInt64, location: EntryLocation)) -> Bool {
        if let covered = pendingCheckpoint {
            pendingCheckpoint = nil
            return fail(
                .entryMissing, covered.first, covered.location,
                "checkpoint of size \(covered.size) covers entries \(covered.first)…\(covered.size - 1), which are not here (deleted or truncated)")
        }
        return missing(from: expected!, before: waiting.seq, location: waiting.location.description)
    }

    private func missing(from first: UInt64, before next: UInt64, location: String) -> Bool {
        let range = next - first == 1 ? "entry \(first) is" : "entries \(first)…\(next - 1) are"
        return fail(.entryMissing, first, location, "\(range) missing (the next entry present is \(next))")
    }

    /// Feeds one checkpoint (its signed note text). False once the chain is known to be bad.
    @discardableResult
    public func checkpoint(_ note: String, location: String) -> Bool {
        guard !hasFailed else { return false }
        let opened: (checkpoint: Checkpoint, signedBy: [String])
        do {
            opened = try Checkpoint.open(note: note, verifiers: verifierKeys, expectedOrigin: origin)
        } catch {
            switch error {
            case .forged, .noKnownSignature:
                return fail(.checkpointForged, nil, location, error.description)
            default:
                return fail(.checkpointInconsistent, nil, location, error.description)
            }
        }
        let checkpoint = opened.checkpoint
        report.signaturesChecked += opened.signedBy.count
        if pending != nil {
            // Still looking for the entry after a gap; checkpoints cannot be placed until then.
            lookedAhead += 1
            if lookedAhead >= Self.reorderWindow, let waiting = pending {
                pending = nil
                return reportGap(waiting)
            }
            return true
        }
        if let last = report.lastCheckpointSize, checkpoint.size < last {
            return fail(
                .checkpointInconsistent, checkpoint.size, location,
                "checkpoint of size \(checkpoint.size) comes after one of size \(last): checkpoints only grow")
        }
        let carried = checkpoint.extensions.first { $0.hasPrefix(Self.frontierExtensionPrefix) }
        if expected == nil {
            // The input starts at a checkpoint (a rotated file): its signed frontier is the
            // starting point, authenticated because its root must equal the signed root.
            guard let carried, let bytes = Data(base64Encoded: String(carried.dropFirst(Self.frontierExtensionPrefix.count))),
                  let start = try? MerkleFrontier(serialized: Array(bytes))
            else {
                return fail(
                    .malformed, checkpoint.size, location,
                    "the input starts with a checkpoint that carries no frontier, so its entries cannot be verified alone")
            }
            guard start.size == checkpoint.size, start.root() == checkpoint.rootHash else {
                return fail(.checkpointInconsistent, checkpoint.size, location, "the frontier it carries does not match its root")
            }
            frontier = start
            expected = checkpoint.size
        }
        if checkpoint.size > frontier.size {
            // Entries it covers may still come (reordered); look ahead before calling them missing.
            if report.failure == nil, pending == nil, let want = expected {
                pending = (checkpoint.size, .described(location))
                lookedAhead = 0
                pendingCheckpoint = (want, location, checkpoint.size)
                return true
            }
            return fail(
                .entryMissing, frontier.size, location,
                "checkpoint of size \(checkpoint.size) covers entries \(frontier.size)…\(checkpoint.size - 1), which are not here (deleted or truncated)")
        }
        if checkpoint.size < frontier.size {
            return fail(
                .checkpointInconsistent, checkpoint.size, location,
                "checkpoint of size \(checkpoint.size) appears after entry \(frontier.size - 1): it is out of place")
        }
        let root = frontier.root()
        guard root == checkpoint.rootHash else {
            let last = checkpoint.size == 0 ? 0 : checkpoint.size - 1
            return fail(
                .contentChanged, last, location,
                "the entries give root \(root.hexString.prefix(16))… but the checkpoint of size \(checkpoint.size) signed "
                    + "\(checkpoint.rootHash.hexString.prefix(16))…: entry \(last) was changed (every earlier entry is linked)")
        }
        report.checkpoints += 1
        report.lastCheckpointSize = checkpoint.size
        report.lastCheckpointRoot = root
        return true
    }

    /// Records input that is neither an entry nor a checkpoint (a torn or garbled line).
    @discardableResult
    public func malformed(_ reason: String, location: String) -> Bool {
        guard !hasFailed else { return false }
        return fail(.malformed, expected, location, reason)
    }

    public func finish() -> VerificationReport {
        if !hasFailed, let waiting = pending {
            pending = nil
            _ = reportGap(waiting)
        }
        if !hasFailed {
            let covered = report.lastCheckpointSize ?? 0
            if let end = expected, end > covered {
                report.warnings.append(
                    "\(end - covered) entr\(end - covered == 1 ? "y" : "ies") after the last checkpoint \(covered == 0 ? "(there is none) " : "")are linked but not yet covered by a signature")
            }
        }
        return report
    }
}
