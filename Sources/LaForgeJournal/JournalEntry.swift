/// One entry as stored in a segment frame.
public struct JournalEntry: Sendable, Equatable {
    /// Position in the chain, from 0, without gaps.
    public var seq: UInt64
    /// `SHA-256(0x00 ‖ payload)`, the RFC 6962 leaf hash.
    public var hash: [UInt8]
    /// The previous entry's `hash`; 32 zero bytes for seq 0.
    public var prevHash: [UInt8]
    /// The canonical entry bytes the linker produced.
    public var payload: [UInt8]

    public init(seq: UInt64, hash: [UInt8], prevHash: [UInt8], payload: [UInt8]) {
        self.seq = seq
        self.hash = hash
        self.prevHash = prevHash
        self.payload = payload
    }
}

/// What `Journal.append` returns for each body, in the order the bodies were given.
public struct JournalEntryReceipt: Sendable, Equatable {
    public var seq: UInt64
    /// Held inline: a group commit makes one receipt per entry, and an array each would be an
    /// allocation per entry on the sequential commit path.
    package var chainHash: ChainHash

    public var hash: [UInt8] {
        get { chainHash.bytes }
        set { chainHash = ChainHash(newValue) }
    }

    public init(seq: UInt64, hash: [UInt8]) {
        self.seq = seq
        self.chainHash = ChainHash(hash)
    }

    init(seq: UInt64, chainHash: ChainHash) {
        self.seq = seq
        self.chainHash = chainHash
    }
}

/// One frame of `checkpoints.log`: the tree size it covers and the caller's opaque bytes (the
/// signed note and frontier, encoded by the checkpointer).
public struct StoredCheckpoint: Sendable, Equatable {
    public var size: UInt64
    public var payload: [UInt8]

    public init(size: UInt64, payload: [UInt8]) {
        self.size = size
        self.payload = payload
    }
}

/// A torn tail the journal cut off: bytes of a write that never completed (a crash mid-write, or
/// a power loss after the size but before the data reached the disk). Nothing in them was ever
/// reported as written; they are listed so an operator can see that recovery happened.
///
/// Only the writer recovers (when it opens the journal or takes its lock); a verifier reports
/// the same bytes as a torn tail and changes nothing. The discarded bytes are first copied to
/// `keptAt` (`<journal>/recovered/<file>.<offset>`), so a recovery never destroys evidence.
public struct JournalRecovery: Sendable, Equatable, CustomStringConvertible {
    public var file: String
    /// Length of the file after truncation: where the discarded bytes began.
    public var offset: UInt64
    public var discardedBytes: UInt64
    public var reason: String
    /// Where the discarded bytes were kept (nil if they could not be copied: see `reason`).
    public var keptAt: String?
    /// A discarded frame of `checkpoints.log` that was whole-length: it may have been a signed
    /// checkpoint changed on disk rather than a torn write. Logged as an error.
    public var mayBeSignedCheckpoint = false

    public var description: String {
        (mayBeSignedCheckpoint ? "A CHECKPOINT FRAME WAS REMOVED (it may have been a signed checkpoint altered on disk): " : "")
            + "\(file): discarded a torn tail of \(discardedBytes) bytes at byte \(offset) (\(reason))"
            + (keptAt.map { "; the bytes are kept in \($0)" } ?? "")
    }
}
