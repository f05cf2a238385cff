import LaForgeCore

/// The journal as seen by the checkpointer while it holds the journal's exclusive lock: no entry
/// or checkpoint can be appended by anyone else, in this process or another, until the body of
/// `Journal.withExclusiveLock` returns. Valid only inside that body.
public struct JournalLockedView: ~Copyable {
    let journal: Journal

    /// The number of entries (the tree size a checkpoint taken now covers).
    public var size: UInt64 { journal.writer.tail.nextSeq }

    /// The hash of entry `size - 1`; nil when the journal is empty.
    public var lastEntryHash: [UInt8]? {
        journal.writer.tail.nextSeq == 0 ? nil : journal.writer.lastHash.bytes
    }

    /// Leaf hashes of entries `from..<to` (headers only).
    public func leafHashes(from: UInt64, to: UInt64) throws(JournalError) -> [[UInt8]] {
        try journal.leafHashes(from: from, to: to, mayRefresh: false)
    }

    /// Appends the leaf hashes of entries `frontier.size..<to` to `frontier`: from memory when
    /// this instance appended them, else from the frames' headers.
    public func extend(_ frontier: inout MerkleFrontier, to: UInt64) throws(JournalError) {
        if journal.writer.recentLeaves.extend(&frontier, from: frontier.size, to: to) { return }
        var next = frontier.size
        while next < to {
            let end = min(to, next + 65_536)
            for leaf in try leafHashes(from: next, to: end) { frontier.append(leaf) }
            next = end
        }
    }

    /// The newest checkpoint, from any process.
    public func lastCheckpoint() -> StoredCheckpoint? { journal.writer.checkpoints.last }

    /// Appends a checkpoint covering the first `size` entries; durable when this returns (unless
    /// `fsync` is `.never`). `size` may not exceed `self.size` nor be below the last checkpoint's.
    public func appendCheckpoint(size: UInt64, payload: [UInt8]) throws(JournalError) {
        try journal.appendCheckpointLocked(size: size, payload: payload)
    }
}

extension Journal {
    /// Runs `body` with the journal exclusively locked (against this and every other process),
    /// its tail and checkpoint log refreshed from disk. For the checkpointer: read the size and
    /// leaf hashes, sign, append the checkpoint — and no append can slip in between.
    ///
    /// `body` must not call `append`, `size`, `checkpoints` or `withExclusiveLock` on this
    /// journal (they wait for the lock `body` holds); the view offers what it needs.
    public func withExclusiveLock<R>(_ body: (borrowing JournalLockedView) throws -> R) throws -> R {
        let outcome: Result<R, any Error> = try withFileLock { () throws(JournalError) in
            try refreshCheckpoints()
            let view = JournalLockedView(journal: self)
            do {
                return .success(try body(view))
            } catch {
                return .failure(error)
            }
        }
        return try outcome.get()
    }

    /// Every checkpoint in `checkpoints.log`, oldest first.
    public func checkpoints() throws(JournalError) -> [StoredCheckpoint] {
        try withFileLock { () throws(JournalError) in
            try refreshCheckpoints()
            return try writer.checkpoints.readAll(window: writerWindow)
        }
    }

    func refreshCheckpoints() throws(JournalError) {
        var recoveries: [JournalRecovery] = []
        defer {
            if !recoveries.isEmpty { recoveryLog.withLock { $0.append(contentsOf: recoveries) } }
        }
        try writer.checkpoints.refresh(window: writerWindow, recoveries: &recoveries)
    }

    func appendCheckpointLocked(size: UInt64, payload: [UInt8]) throws(JournalError) {
        let path = writer.checkpoints.path
        if let poisoned = writer.poisoned {
            throw JournalError(.notDurable, path: path, poisoned)
        }
        guard size <= writer.tail.nextSeq else {
            throw JournalError(
                .invalidArgument, path: path,
                "a checkpoint for size \(size) is beyond the journal's \(writer.tail.nextSeq) entries")
        }
        if let last = writer.checkpoints.last, size < last.size {
            throw JournalError(
                .invalidArgument, path: path, "a checkpoint for size \(size) would follow one for size \(last.size)")
        }
        do {
            try writer.checkpoints.append(
                size: size, payload: payload, sync: options.fsync != .never, directory: options.directory)
            if options.fsync != .never { _ = datasyncCalls.add(1, ordering: .relaxed) }
        } catch {
            if error.kind == .notDurable { writer.poisoned = error.message }
            throw error
        }
    }
}
