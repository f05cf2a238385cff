/// Where a journal's chain continues: the next seq and the hash it links to.
public struct JournalTail: Sendable, Equatable {
    public let nextSeq: UInt64
    package let lastHash: ChainHash
}

/// Entries linked into frames ahead of their commit, on the assumption that the chain then
/// still ends at `start`. Linking and hashing are the sequential CPU work of an append; done
/// here, on the caller's thread while the previous group is being synced, they leave the
/// commit only the write and the sync. When the assumption no longer holds (another process
/// appended meanwhile), the commit links the bodies again; the result is the same either way.
public struct LinkedGroup: Sendable {
    let bodies: [[UInt8]]
    let start: JournalTail
    /// The frames, back to back; empty when an entry was too large (the commit then reports it).
    let frames: [UInt8]
    let hashes: [ChainHash]

    /// Where the chain ends if this group is committed as linked: the start of the next one.
    public var end: JournalTail {
        JournalTail(nextSeq: start.nextSeq + UInt64(hashes.count), lastHash: hashes.last ?? start.lastHash)
    }

    /// How many entries (bodies) the group holds.
    public var count: Int { bodies.count }

    var byteCount: Int { frames.count }
}

extension Journal {
    /// The tail as this instance last saw it (no lock: a guess another process may overtake).
    public var knownTail: JournalTail {
        published.withLock { JournalTail(nextSeq: $0.count, lastHash: $0.lastHash) }
    }

    /// Links `bodies` as if the chain ended at `start` (pure: any thread, no lock, no I/O).
    public func link(_ bodies: [[UInt8]], after start: JournalTail) -> LinkedGroup {
        var frames: [UInt8] = []
        frames.reserveCapacity(bodies.reduce(0) { $0 + $1.count } + bodies.count * (EntryFrame.headerSize + 200))
        var hashes: [ChainHash] = []
        hashes.reserveCapacity(bodies.count)
        var previous = start.lastHash
        for body in bodies {
            guard
                let hash = EntryFrame.appendLinked(
                    body, seq: start.nextSeq + UInt64(hashes.count), prevHash: previous, linker: linker, to: &frames)
            else {
                return LinkedGroup(bodies: bodies, start: start, frames: [], hashes: [])
            }
            hashes.append(hash)
            previous = hash
        }
        return LinkedGroup(bodies: bodies, start: start, frames: frames, hashes: hashes)
    }

    /// Appends a group linked ahead (see `LinkedGroup`); otherwise as `append(_:)`.
    public func append(_ linked: LinkedGroup) throws(JournalError) -> [JournalEntryReceipt] {
        try append(AppendRequest(linked))
    }
}
