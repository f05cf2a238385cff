import LaForgeCore

/// The leaf hashes of the entries this instance appended most recently, so that signing a
/// checkpoint extends the tree from memory instead of reading back the frames it just wrote.
/// Covers one contiguous run of seqs; an append by another process in between starts it over
/// (those leaves are then read from disk).
struct RecentLeaves {
    /// Bounds memory: 32 bytes a leaf, 4 MiB at most.
    static let capacity = 1 << 17

    private(set) var firstSeq: UInt64 = 0
    private var hashes: [ChainHash] = []

    var endSeq: UInt64 { firstSeq + UInt64(hashes.count) }

    /// Records the hashes of a committed group whose first entry is `seq`.
    mutating func record(_ receipts: [JournalEntryReceipt], from seq: UInt64) {
        if seq != endSeq || hashes.isEmpty {
            hashes.removeAll(keepingCapacity: true)
            firstSeq = seq
        }
        if hashes.count + receipts.count > Self.capacity {
            let drop = min(hashes.count, hashes.count + receipts.count - Self.capacity / 2)
            hashes.removeFirst(drop)
            firstSeq += UInt64(drop)
        }
        for receipt in receipts { hashes.append(receipt.chainHash) }
    }

    /// Appends the leaves `from..<to` to `frontier`; false (and nothing appended) when they are
    /// not all held here.
    func extend(_ frontier: inout MerkleFrontier, from: UInt64, to: UInt64) -> Bool {
        guard from >= firstSeq, to <= endSeq, from <= to else { return false }
        for index in Int(from - firstSeq)..<Int(to - firstSeq) {
            withUnsafeBytes(of: hashes[index]) { frontier.append(leaf: $0) }
        }
        return true
    }
}
