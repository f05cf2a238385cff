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
    private var frontier = ParallelFrontier()
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
    /// The roots of the verified checkpoints, and the root at `knownSize` when one was asked for:
    /// what a kept `VerifiedState` is compared with.
    private var rootsSeen: [(size: UInt64, root: [UInt8])] = []
    /// A tree size whose root is wanted (the one a kept `VerifiedState` names) though no
    /// checkpoint may sit exactly there in this store (a FileSink set rotated differently).
    public var knownSize: UInt64?
    /// Set for a whole store (the journal, a FileSink set from its first file): the input must
    /// start at entry 0, not at a checkpoint that carries a frontier (which only a single
    /// numbered file verified alone may do).
    public var requireGenesis = false
    /// Entries no checkpoint covers, and a torn tail, fail instead of warning.
    public var strict = false
    /// The last verified state of this store, kept outside it (`VerifiedState`).
    /// The journal to compare a sink with (`--against-journal`), and the seq the host's cursor
    /// says it delivered the sink up to (entries below it must be in the sink).
    public var journal: JournalLeaves?
    public var deliveredUpTo: UInt64?
    /// The size of the newest checkpoint the host's cursor says it delivered to the sink: with
    /// `journal`, every journal checkpoint up to it must be in the sink.
    public var deliveredCheckpointSize: UInt64?
    /// The journal's entry count, when a sink is checked against the journal's end only (the
    /// default for `verify chain --sink` beside a journal): a sink behind it is reported, one
    /// ending before `deliveredUpTo` fails.
    public var journalSize: UInt64?
    /// Keep every accepted entry's leaf hash in `leaves` (a journal verified to compare sinks with).
    public var collectsLeaves = false
    public private(set) var leaves = JournalLeaves()
    public var known: VerifiedState? {
        didSet { knownSize = known?.checkpointSize }
    }
    /// The size of the checkpoint the input started from, when it did not start at entry 0.
    private var startSize: UInt64?

    public static let frontierExtensionPrefix = MerkleFrontier.checkpointExtensionPrefix

    public init(verifierKeys: [Ed25519VerifierKey], origin: String? = nil, chainID: String? = nil) {
        self.verifierKeys = verifierKeys
        self.origin = origin
        self.chainID = chainID
        chainIDBytes = chainID.map { Array($0.utf8) }
    }

    public var hasFailed: Bool { report.failure != nil }
    /// The seq the next entry must have (nil before the first record).
    public var nextSeq: UInt64? { expected }
    /// Whether a gap is open while the records after it are searched for the missing entry.
    public var isLookingAhead: Bool { pending != nil }

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
        entry(bytes, at: location, leafHash: nil)
    }

    /// `entry` with the leaf hash of `bytes` already computed (by a reader that checked it).
    @discardableResult
    package func entry(_ bytes: UnsafeRawBufferPointer, at location: EntryLocation, leafHash: ChainHash?) -> Bool {
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
        return accept(bytes, link: link, location: location, leafHash: leafHash)
    }

    private func accept(
        _ bytes: UnsafeRawBufferPointer, link: AuditEntry.Link, location: EntryLocation, leafHash: ChainHash?
    ) -> Bool {
        let want = link.seq
        if want == 0 && link.prevHash != .zero {
            return fail(.contentChanged, 0, location.description, "the first entry's prev_hash must be all zeros")
        }
        if let previousHash, link.prevHash != previousHash {
            return brokenLink(at: want, computed: previousHash, recorded: link.prevHash, location: location)
        }
        let hash = leafHash?.bytes ?? SHA256.leafHash(bytes)
        frontier.append(hash)
        if frontier.size == knownSize { rootsSeen.append((frontier.size, frontier.root())) }
        if collectsLeaves { leaves.append(hash) }
        if let journal {
            switch journal.matches(want, hash) {
            case nil:
                return fail(
                    .contentChanged, want, location.description,
                    "the sink holds entry \(want), which the journal does not (it holds \(journal.count) entries): the entry was added outside the host")
            case false?:
                return fail(
                    .contentChanged, want, location.description,
                    "entry \(want) differs from the journal's entry \(want) (leaf hash \(hash.hexString)): the sink's copy was changed")
            case true?:
                break
            }
        }
        previousHash = ChainHash(hash)
        expected = want + 1
        lastEntryLocation = location
        if report.firstSeq == nil { report.firstSeq = want }
        report.lastSeq = want
        report.entries += 1
        return true
    }

    /// A link that does not hold between entry `seq - 1` and entry `seq`. Either entry `seq - 1`
    /// was changed (its hash is then unrelated to the recorded prev_hash) or entry `seq`'s
    /// prev_hash was edited (the two then still agree in most hex digits: an edit changes a
    /// few, while two unrelated SHA-256 values share about 4 of 64). The full hashes are shown,
    /// with the first digit where they differ, so two equal-looking prefixes cannot mislead.
    private func brokenLink(at seq: UInt64, computed: ChainHash, recorded: ChainHash, location: EntryLocation) -> Bool {
        let computedHex = Array(computed.bytes.hexString.utf8)
        let recordedHex = Array(recorded.bytes.hexString.utf8)
        let differing = zip(computedHex, recordedHex).filter { $0 != $1 }.count
        let firstDifference = computedHex.indices.first { computedHex[$0] != recordedHex[$0] } ?? 0
        let hashes = "entry \(seq - 1) hashes to \(computed.bytes.hexString), entry \(seq) records prev_hash \(recorded.bytes.hexString) "
            + "(\(differing) of 64 hex digits differ, the first at digit \(firstDifference + 1))"
        if differing <= 32 {
            return fail(.contentChanged, seq, location.description, "entry \(seq)'s prev_hash was edited: \(hashes)")
        }
        return fail(
            .contentChanged, seq - 1, lastEntryLocation.description,
            "entry \(seq - 1)'s hash differs from the prev_hash entry \(seq) recorded: entry \(seq - 1) was changed, "
                + "or entry \(seq)'s prev_hash was replaced: \(hashes)")
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
            // A note whose structure was damaged cannot have its signature checked: it was
            // changed after signing, which is what "forged" reports.
            switch error {
            case .forged, .noKnownSignature, .malformedNote:
                return fail(.checkpointForged, Self.claimedSize(note: note), location, error.description)
            default:
                return fail(.checkpointInconsistent, Self.claimedSize(note: note), location, error.description)
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
            if requireGenesis {
                return fail(
                    .entryMissing, 0, location,
                    "the input starts at the checkpoint of size \(checkpoint.size), not at entry 0: entries 0…\(max(checkpoint.size, 1) - 1) "
                        + "(the first file or files of the set) are missing")
            }
            // The input starts at a checkpoint (a rotated file): its signed frontier is the
            // starting point, authenticated because its root must equal the signed root.
            startSize = checkpoint.size
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
            frontier = ParallelFrontier(start)
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
        if let journal, let lost = journal.checkpointSizes(between: report.lastCheckpointSize ?? startSize ?? 0, and: checkpoint.size).first {
            return checkpointMissing(lost, before: "the sink's next checkpoint is of size \(checkpoint.size)", location: location)
        }
        if collectsLeaves { leaves.appendCheckpoint(checkpoint.size) }
        report.checkpoints += 1
        if rootsSeen.last?.size != checkpoint.size { rootsSeen.append((checkpoint.size, root)) }
        report.lastCheckpointSize = checkpoint.size
        report.lastCheckpointRoot = root
        return true
    }

    /// A checkpoint of the journal's that the sink lacks (deleted from it, or never stored): no
    /// entry is lost with it (a later checkpoint still signs them), but what the host delivered
    /// is no longer all there, and nothing in the sink alone shows it.
    private func checkpointMissing(_ size: UInt64, before what: String, location: String) -> Bool {
        fail(
            .checkpointMissing, size, location,
            "the journal's checkpoint of size \(size) is not in the sink (\(what)): it was deleted from the sink, "
                + "or the sink refused it (see its dead-letter file)")
    }

    /// The tree size a checkpoint note claims on its second line, read without trusting it:
    /// where a checkpoint that fails to open is located.
    static func claimedSize(note: String) -> UInt64? {
        let lines = note.split(separator: "\n", maxSplits: 2, omittingEmptySubsequences: false)
        return lines.count >= 2 ? UInt64(lines[1]) : nil
    }

    /// The size a checkpoint note names when its signature verifies under a trusted key.
    public func authenticSize(note: String) -> UInt64? {
        (try? Checkpoint.open(note: note, verifiers: verifierKeys, expectedOrigin: origin))?.0.size
    }

    /// Records a problem the source found in its own framing (a journal frame whose stored hash
    /// does not match, a cut segment), with the seq it concerns.
    @discardableResult
    public func problem(_ kind: VerificationFailure.Kind, seq: UInt64?, location: String, _ message: String) -> Bool {
        guard !hasFailed else { return false }
        return fail(kind, seq, location, message)
    }

    /// Records bytes at the end of the store that are a frame cut short: what a crashed writer
    /// leaves until it next opens the store. Reported, never repaired here; a failure under
    /// `strict`.
    public func tornTail(_ message: String, location: String) {
        guard !hasFailed else { return }
        report.tornTail = "\(location): \(message)"
    }

    /// Records input that is neither an entry nor a checkpoint (a torn or garbled line).
    @discardableResult
    public func malformed(_ reason: String, location: String) -> Bool {
        guard !hasFailed else { return false }
        return fail(.malformed, expected, location, reason)
    }

    /// Ends the stream. Entries after the last checkpoint are linked but signed by nobody (a
    /// forger who can write the store can append them), and a torn tail is unfinished: both
    /// are warnings, or failures when `strict` (the default in production). `known`, the last
    /// verified state that the verifier kept outside the store, makes a store that shrank or
    /// whose history changed a failure.
    public func finish() -> VerificationReport {
        if !hasFailed, let waiting = pending {
            pending = nil
            _ = reportGap(waiting)
        }
        let end = expected ?? 0
        if !hasFailed, let known {
            if end < known.entries {
                let range = known.entries - end == 1 ? "entry \(end)" : "entries \(end)…\(known.entries - 1)"
                _ = fail(
                    .entryMissing, end, known.source,
                    "the store holds \(end) entries but held \(known.entries) when last verified (\(known.verifiedAt)): \(range) were removed")
            } else if let size = known.checkpointSize, let root = known.checkpointRoot, size > 0, size >= startSize ?? 0, !rootsSeen.contains(where: { $0.size == size && $0.root == root }) {
                _ = fail(
                    .checkpointInconsistent, size, known.source,
                    "the tree of size \(size) verified on \(known.verifiedAt) had root \(root.hexString); the store no longer gives that root: its history was rewritten")
            }
        }
        if !hasFailed, let journalCount = journal.map(\.count) ?? journalSize {
            if let delivered = deliveredUpTo, end < delivered {
                let range = delivered - end == 1 ? "entry \(end) is" : "entries \(end)…\(delivered - 1) are"
                _ = fail(
                    .entryMissing, end, lastEntryLocation.description,
                    "\(range) missing from the sink: the host delivered it up to seq \(delivered - 1) (its cursor), the sink ends at seq \(Int64(end) - 1)")
            } else if let journal, let delivered = deliveredCheckpointSize,
                let lost = journal.checkpointSizes(between: report.lastCheckpointSize ?? startSize ?? 0, and: delivered &+ 1).first
            {
                _ = checkpointMissing(
                    lost, before: "the host delivered checkpoints up to size \(delivered) (its cursor); the sink's last is of size \(report.lastCheckpointSize ?? 0)",
                    location: lastEntryLocation.description)
            } else if journalCount > end {
                report.behindJournal = journalCount - end
                report.warnings.append(
                    "the sink is \(journalCount - end) entr\(journalCount - end == 1 ? "y" : "ies") behind the journal (\(journalCount) entries; not delivered yet)")
            } else {
                report.behindJournal = 0
            }
        }
        if !hasFailed {
            let covered = report.lastCheckpointSize ?? 0
            report.uncoveredEntries = end > covered ? end - covered : 0
            if end > covered {
                let text =
                    "\(end - covered) entr\(end - covered == 1 ? "y" : "ies") after the last checkpoint \(covered == 0 ? "(there is none) " : "")are linked but not yet covered by a signature"
                if strict {
                    _ = fail(.notCovered, covered, lastEntryLocation.description, text + " (--strict)")
                } else {
                    report.warnings.append(text)
                }
            }
        }
        if !hasFailed, let torn = report.tornTail {
            if strict {
                _ = fail(.malformed, end, torn, "a torn tail (--strict)")
            } else {
                report.warnings.append("torn tail: \(torn)")
            }
        }
        return report
    }
}
