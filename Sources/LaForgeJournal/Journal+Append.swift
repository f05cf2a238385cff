import LaForgeCore

#if canImport(Glibc)
    import Glibc
#endif

/// One `append` call waiting in the group-commit queue.
final class AppendRequest {
    let bodies: [[UInt8]]
    /// The frames linked ahead, used when the chain still ends where they assumed.
    let linked: LinkedGroup?
    let byteCount: Int
    /// Set by the leader that committed (or failed) the request; read under `Journal.queue`.
    var result: Result<[JournalEntryReceipt], JournalError>?

    init(_ bodies: [[UInt8]]) {
        self.bodies = bodies
        linked = nil
        byteCount = bodies.reduce(0) { $0 + $1.count }
    }

    init(_ linked: LinkedGroup) {
        bodies = linked.bodies
        self.linked = linked
        byteCount = bodies.reduce(0) { $0 + $1.count }
    }
}

extension Journal {
    /// Appends `bodies` as consecutive entries and returns their receipts in the same order.
    ///
    /// Concurrent callers are committed in groups: whichever caller finds no commit in progress
    /// becomes the leader, takes every queued call (up to `maxGroupEntries`/`maxGroupBytes`),
    /// writes all their frames with one `pwrite` loop and one `fdatasync`, and wakes the others
    /// with their receipts or the group's error. All bodies of one call land in one group, so a
    /// call is all-or-nothing. Returns only once the entries are durable per `options.fsync`.
    ///
    /// Must not be called from the linker or from `withExclusiveLock`'s body (it would wait for
    /// the lock its own thread holds).
    public func append(_ bodies: [[UInt8]]) throws(JournalError) -> [JournalEntryReceipt] {
        try append(AppendRequest(bodies))
    }

    func append(_ request: AppendRequest) throws(JournalError) -> [JournalEntryReceipt] {
        guard !request.bodies.isEmpty else { return [] }
        queue.lock()
        pending.append(request)
        while request.result == nil {
            if leaderActive {
                queue.wait()
                continue
            }
            leaderActive = true
            let group = takeGroup()
            queue.unlock()
            let results = commit(group)
            queue.lock()
            for (member, result) in zip(group, results) { member.result = result }
            leaderActive = false
            queue.broadcast()
        }
        let result = request.result!
        queue.unlock()
        return try result.get()
    }

    /// Removes the next group from the queue (called with `queue` locked).
    private func takeGroup() -> [AppendRequest] {
        var entries = 0
        var bytes = 0
        var taken = 0
        for request in pending {
            if taken > 0 {
                if options.fsync == .always { break }
                if entries + request.bodies.count > options.maxGroupEntries { break }
                if bytes + request.byteCount > options.maxGroupBytes { break }
            }
            entries += request.bodies.count
            bytes += request.byteCount
            taken += 1
        }
        let group = Array(pending.prefix(taken))
        pending.removeFirst(taken)
        return group
    }

    /// The frames of one group, cut where segments rotate.
    struct GroupWrite {
        struct Chunk {
            var firstSeq: UInt64
            /// Where the chunk's bytes go in segment `firstSeq`; 0 for a segment this group creates.
            var offset: UInt64
            var creates: Bool
            var bytes: [UInt8] = []
        }

        var chunks: [Chunk]
        var tail: ChainPoint

        /// Bytes in the segment the next frame goes to, counting those already buffered.
        var activeLength: UInt64 {
            chunks[chunks.count - 1].offset + UInt64(chunks[chunks.count - 1].bytes.count)
        }

        func mark() -> (Int, Int, ChainPoint) { (chunks.count, chunks[chunks.count - 1].bytes.count, tail) }

        mutating func restore(_ mark: (Int, Int, ChainPoint)) {
            chunks.removeLast(chunks.count - mark.0)
            chunks[chunks.count - 1].bytes.removeLast(chunks[chunks.count - 1].bytes.count - mark.1)
            tail = mark.2
        }

        /// Appends frames linked ahead when they continue the chain as it is and fit in the
        /// active segment; nil (nothing appended) otherwise, for the caller to link again.
        mutating func appendLinked(_ linked: LinkedGroup, segmentBytes: Int) -> [JournalEntryReceipt]? {
            guard !linked.hashes.isEmpty, linked.start.nextSeq == tail.nextSeq,
                  linked.start.lastHash == (tail.prevHash ?? .zero),
                  activeLength + UInt64(linked.byteCount) <= UInt64(segmentBytes)
            else { return nil }
            let last = chunks.count - 1
            if chunks[last].bytes.isEmpty {
                chunks[last].bytes = linked.frames  // shared, not copied: nothing appends after it in most groups
            } else {
                chunks[last].bytes.append(contentsOf: linked.frames)
            }
            let end = linked.end
            tail = ChainPoint(nextSeq: end.nextSeq, prevHash: end.lastHash, offset: 0)
            return linked.hashes.enumerated().map { JournalEntryReceipt(seq: linked.start.nextSeq + UInt64($0), chainHash: $1) }
        }

        /// Moves the frame just appended for `seq` (from `frameStart` in the last chunk) into a
        /// new chunk, a new segment, when it made the active segment exceed `segmentBytes` and is
        /// not the segment's only frame.
        mutating func rotateLastFrameIfNeeded(seq: UInt64, frameStart: Int, segmentBytes: UInt64, reserve: Int) {
            let last = chunks.count - 1
            guard activeLength > segmentBytes, chunks[last].offset + UInt64(frameStart) > 0 else { return }
            var moved = GroupWrite.Chunk(firstSeq: seq, offset: 0, creates: true)
            moved.bytes.reserveCapacity(reserve)
            moved.bytes.append(contentsOf: chunks[last].bytes[frameStart...])
            chunks[last].bytes.removeLast(chunks[last].bytes.count - frameStart)
            chunks.append(moved)
        }
    }

    /// Builds, writes and syncs one group; one result per request.
    private func commit(_ group: [AppendRequest]) -> [Result<[JournalEntryReceipt], JournalError>] {
        var results = [Result<[JournalEntryReceipt], JournalError>?](repeating: nil, count: group.count)
        do throws(JournalError) {
            try withFileLock { () throws(JournalError) in
                if let poisoned = writer.poisoned {
                    throw JournalError(.notDurable, path: options.directory, poisoned)
                }
                var write = GroupWrite(
                    chunks: [
                        GroupWrite.Chunk(
                            firstSeq: writer.active?.firstSeq ?? 0, offset: writer.tail.offset,
                            creates: writer.active == nil)
                    ],
                    tail: writer.tail)
                let estimate = group.reduce(0) { $0 + $1.byteCount + $1.bodies.count * (EntryFrame.headerSize + 256) }
                for (index, request) in group.enumerated() {
                    if let linked = request.linked, let receipts = write.appendLinked(linked, segmentBytes: options.segmentBytes) {
                        results[index] = .success(receipts)
                        continue
                    }
                    let mark = write.mark()
                    var receipts: [JournalEntryReceipt] = []
                    receipts.reserveCapacity(request.bodies.count)
                    write.chunks[write.chunks.count - 1].bytes.reserveCapacity(estimate)
                    for body in request.bodies {
                        let seq = write.tail.nextSeq
                        let prevHash = write.tail.prevHash ?? .zero
                        let frameStart = write.chunks[write.chunks.count - 1].bytes.count
                        guard
                            let hash = EntryFrame.appendLinked(
                                body, seq: seq, prevHash: prevHash, linker: linker,
                                to: &write.chunks[write.chunks.count - 1].bytes)
                        else {
                            results[index] = .failure(
                                JournalError(
                                    .invalidArgument, path: options.directory,
                                    "entry seq \(seq) is larger than the \(EntryFrame.maxPayload) bytes the journal stores"))
                            break
                        }
                        // A frame that would overflow the segment starts the next one instead.
                        write.rotateLastFrameIfNeeded(
                            seq: seq, frameStart: frameStart, segmentBytes: UInt64(options.segmentBytes), reserve: estimate)
                        write.tail = ChainPoint(nextSeq: seq + 1, prevHash: hash, offset: 0)
                        receipts.append(JournalEntryReceipt(seq: seq, chainHash: hash))
                    }
                    if results[index] == nil {
                        results[index] = .success(receipts)
                    } else {
                        write.restore(mark)
                    }
                }
                write.tail.offset = write.activeLength
                let firstSeq = writer.tail.nextSeq
                try perform(write)
                var next = firstSeq
                for case .success(let receipts)? in results {
                    writer.recentLeaves.record(receipts, from: next)
                    next += UInt64(receipts.count)
                }
            }
        } catch {
            // The group as a whole failed: every request that was not refused on its own shares it.
            return results.map { result in
                if case .failure = result { return result! }
                return .failure(error)
            }
        }
        return results.map { $0! }
    }

    /// Writes the chunks and syncs them; on any failure removes every byte written, so the files
    /// are as before and the group's callers get the error. A failed `fdatasync` also poisons
    /// the instance: after one, the kernel may have dropped dirty pages it could not write, and
    /// a later successful sync would not mean our earlier data is on disk (PostgreSQL's
    /// "fsyncgate", 2018).
    private func perform(_ write: GroupWrite) throws(JournalError) {
        var written: [(chunk: GroupWrite.Chunk, handle: JournalFileHandle)] = []
        do throws(JournalError) {
            for chunk in write.chunks where !chunk.bytes.isEmpty {
                let path = segmentPath(chunk.firstSeq)
                let handle: JournalFileHandle
                if chunk.creates {
                    // The previous segment must be durable before a frame exists beyond it, or a
                    // power loss could leave a torn frame in the middle of the chain.
                    if let previous = written.last { try sync(previous.handle) }
                    handle = try createSegment(path)
                    written.append((chunk, handle))
                    try Self.check(
                        FileIO.syncDirectory(options.directory), path: options.directory,
                        "cannot sync the directory after creating \(path)")
                } else {
                    guard let active = writer.active else { continue }
                    handle = active.handle
                    written.append((chunk, handle))
                }
                let error = chunk.bytes.withUnsafeBytes { FileIO.pwriteAll(handle.fd, $0, at: chunk.offset) }
                if error != 0 {
                    throw JournalError.io(
                        error, path: path, offset: chunk.offset,
                        "cannot append \(chunk.bytes.count) bytes; nothing of this append was kept")
                }
            }
            if let last = written.last { try sync(last.handle) }
        } catch {
            rollBack(written)
            throw error
        }
        if let last = written.last, last.chunk.creates {
            writer.active = ActiveSegment(firstSeq: last.chunk.firstSeq, handle: last.handle)
        }
        for (chunk, _) in written where chunk.creates { writer.segments.append(chunk.firstSeq) }
        writer.tail = write.tail
        publish()
    }

    /// Creates a segment file. An empty file already there is taken over: a writer whose
    /// rollback could not remove the segment it created leaves one (and poisons itself).
    private func createSegment(_ path: String) throws(JournalError) -> JournalFileHandle {
        switch FileIO.open(path, O_RDWR | O_CREAT | O_EXCL) {
        case .success(let fd):
            return JournalFileHandle(fd: fd, path: path)
        case .failure(let error) where error.code == EEXIST:
            let existing = try Self.openSegment(path)
            guard try Self.fileSize(existing) == 0 else {
                throw JournalError(
                    .corrupt, path: path, "a segment with this name already holds data beyond the journal's tail")
            }
            return existing
        case .failure(let error):
            throw JournalError.io(error.code, path: path, "cannot create a segment")
        }
    }

    /// `fdatasync` per `options.fsync`; a failure poisons the instance.
    func sync(_ handle: JournalFileHandle) throws(JournalError) {
        guard options.fsync != .never else { return }
        _ = datasyncCalls.add(1, ordering: .relaxed)
        var error = injectedDatasyncFailure.withLock { injected in
            defer { injected = nil }
            return injected ?? 0
        }
        if error == 0 { error = FileIO.datasync(handle.fd) }
        guard error != 0 else { return }
        let message =
            "fdatasync of \(handle.path) failed (\(String(cString: strerror(error)))): the entries were removed and "
            + "this journal refuses writes until it is reopened, as the page cache may have dropped data"
        writer.poisoned = message
        throw JournalError(.notDurable, path: handle.path, message)
    }

    /// Truncates existing segments back to where the group started and removes the segments it
    /// created. If even that fails, the instance is poisoned: the next opener's recovery sees
    /// the leftover frames (whole ones are kept: they were never acknowledged, but they are valid
    /// entries; a partial one is a torn tail).
    private func rollBack(_ written: [(chunk: GroupWrite.Chunk, handle: JournalFileHandle)]) {
        var failed = false
        for (chunk, handle) in written.reversed() {
            if chunk.creates {
                if unlink(handle.path) != 0 { failed = true }
            } else if FileIO.truncate(handle.fd, to: chunk.offset) != 0 {
                failed = true
            }
        }
        if written.contains(where: { $0.chunk.creates }), FileIO.syncDirectory(options.directory) != 0 {
            failed = true
        }
        if failed, writer.poisoned == nil {
            writer.poisoned = "a failed append could not be rolled back; reopen the journal"
        }
    }
}
