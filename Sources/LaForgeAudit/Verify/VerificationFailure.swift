import LaForgeCore

/// The first thing wrong with a chain, with the seq a person should look at.
public struct VerificationFailure: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// An entry's bytes differ from what was chained (hash or link mismatch, not parseable).
        case contentChanged = "content changed"
        /// Entries are absent: a gap in seq, or a checkpoint covers entries that are not there.
        case entryMissing = "entry missing"
        /// Entries are present but out of order.
        case reordered = "reordered"
        /// A checkpoint's signature does not verify under a trusted key, or it names no trusted key.
        case checkpointForged = "checkpoint forged"
        /// A checkpoint contradicts the entries or an earlier checkpoint.
        case checkpointInconsistent = "checkpoint inconsistent"
        /// A checkpoint that must be there is not: the one a rotated FileSink file ends with, or
        /// one the journal signed and the host delivered to a sink (`--against-journal`); `seq`
        /// is its tree size.
        case checkpointMissing = "checkpoint missing"
        /// The input cannot be read as entries and checkpoints at all.
        case malformed = "malformed"
        /// Entries after the last checkpoint, which no signature covers (a failure only under
        /// `--strict`; `seq` is the first of them).
        case notCovered = "not covered"
    }

    public var kind: Kind
    /// The first bad seq (for checkpoints: the tree size they claim).
    public var seq: UInt64?
    /// Where in the input: `audit.ndjson:1042`, `journal entries-…seg`.
    public var location: String
    public var message: String

    public var description: String {
        "\(kind.rawValue)" + (seq.map { " at seq \($0)" } ?? "") + " (\(location)): \(message)"
    }
}

/// What a verification established.
public struct VerificationReport: Sendable {
    public var entries: UInt64 = 0
    public var firstSeq: UInt64?
    public var lastSeq: UInt64?
    public var checkpoints = 0
    public var signaturesChecked = 0
    /// The size of the newest verified checkpoint.
    public var lastCheckpointSize: UInt64?
    public var lastCheckpointRoot: [UInt8]?
    public var failure: VerificationFailure?
    public var warnings: [String] = []
    /// Entries after the last checkpoint (linked, but signed by nobody yet).
    public var uncoveredEntries: UInt64 = 0
    /// Where the store ends inside a frame, if it does (a torn write not yet recovered).
    public var tornTail: String?
    /// Compared with the journal (`--against-journal`): entries the journal holds beyond the
    /// sink's last one.
    public var behindJournal: UInt64?

    public var isValid: Bool { failure == nil }

    public func jsonValue() -> JSONValue {
        var object: [String: JSONValue] = [
            "valid": .bool(isValid),
            "entries": .number(Double(entries)),
            "checkpoints": .number(Double(checkpoints)),
            "signatures_checked": .number(Double(signaturesChecked)),
            "warnings": .array(warnings.map(JSONValue.string)),
        ]
        if let firstSeq { object["first_seq"] = .number(Double(firstSeq)) }
        if let lastSeq { object["last_seq"] = .number(Double(lastSeq)) }
        if let lastCheckpointSize { object["last_checkpoint_size"] = .number(Double(lastCheckpointSize)) }
        if let lastCheckpointRoot { object["last_checkpoint_root"] = .string(lastCheckpointRoot.hexString) }
        object["uncovered_entries"] = .number(Double(uncoveredEntries))
        if let tornTail { object["torn_tail"] = .string(tornTail) }
        if let behindJournal { object["behind_journal"] = .number(Double(behindJournal)) }
        if let failure {
            var detail: [String: JSONValue] = [
                "kind": .string(failure.kind.rawValue), "location": .string(failure.location), "message": .string(failure.message),
            ]
            if let seq = failure.seq { detail["seq"] = .number(Double(seq)) }
            object["failure"] = .object(detail)
        }
        return .object(object)
    }
}
