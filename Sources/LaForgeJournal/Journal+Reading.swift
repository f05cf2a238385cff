import LaForgeCore

#if canImport(Glibc)
    import Glibc
#endif

/// Where a previous read stopped, so the next sequential read starts there instead of walking the
/// segment from its first frame.
struct ReadHint {
    var point: ChainPoint
    var segment: UInt64
}

extension Journal {
    /// Up to `maxCount` entries from `seq` on, stopping before the entry that would take the
    /// payloads past `maxBytes` (but always returning at least one entry when one exists).
    /// Returns `[]` when `seq` is the end; a `seq` past the end is an `.invalidArgument` error
    /// (a cursor ahead of the journal must not look like "nothing to deliver").
    ///
    /// Checks every frame's structure, seq and link to the previous entry, across segment
    /// boundaries too; `verifyingHashes` also recomputes each leaf hash (slower: SHA-256 runs at
    /// a fraction of the read speed; the verifier does it anyway). A bad frame is a `.corrupt`
    /// error naming the segment and offset, never skipped.
    public func entries(from seq: UInt64, maxCount: Int, maxBytes: Int, verifyingHashes: Bool = false)
        throws(JournalError) -> [JournalEntry]
    {
        guard maxCount > 0 else { return [] }
        var entries: [JournalEntry] = []
        var bytes = 0
        let (end, overflow) = seq.addingReportingOverflow(UInt64(maxCount))
        try walk(
            from: seq, to: overflow ? .max : end, required: seq == .max ? .max : seq + 1, readingPayloads: true,
            verifyingHashes: verifyingHashes, mayRefresh: true
        ) {
            header, payload in
            if !entries.isEmpty, bytes + header.payloadCount > maxBytes { return false }
            bytes += header.payloadCount
            entries.append(
                JournalEntry(
                    seq: header.seq, hash: header.hash.bytes, prevHash: header.prevHash.bytes,
                    payload: [UInt8](payload!)))
            return true
        }
        return entries
    }

    /// Visits the entries of seqs `from..<to` in order (stopping at the end of the journal),
    /// with the same frame checks as `entries`. The payload is borrowed from the read window and
    /// valid only during the call: a reader that consumes each entry at once (verification)
    /// skips the copies `entries` makes of every payload and hash. `body` returns false to stop.
    public func forEachEntry(
        from: UInt64, to: UInt64 = .max, _ body: (_ seq: UInt64, _ payload: UnsafeRawBufferPointer) -> Bool
    ) throws(JournalError) {
        try walk(
            from: from, to: to, required: from == .max ? .max : from + 1, readingPayloads: true,
            verifyingHashes: false, mayRefresh: true
        ) { header, payload in
            body(header.seq, payload!)
        }
    }

    /// The leaf hashes of entries `from..<to`, read from the frame headers only, with the chain
    /// links checked. `to` beyond the journal's size is an `.invalidArgument` error.
    public func leafHashes(from: UInt64, to: UInt64) throws(JournalError) -> [[UInt8]] {
        try leafHashes(from: from, to: to, mayRefresh: true)
    }

    func leafHashes(from: UInt64, to: UInt64, mayRefresh: Bool) throws(JournalError) -> [[UInt8]] {
        guard from < to else { return [] }
        var hashes: [[UInt8]] = []
        hashes.reserveCapacity(Int(min(to - from, 1 << 20)))
        try walk(
            from: from, to: to, required: to, readingPayloads: false, verifyingHashes: false, mayRefresh: mayRefresh
        ) { header, _ in
            hashes.append(header.hash.bytes)
            return true
        }
        guard hashes.count == Int(to - from) else {
            throw JournalError(
                .invalidArgument, path: options.directory,
                "leaf hashes up to \(to) asked for, but the journal holds \(from + UInt64(hashes.count)) entries")
        }
        return hashes
    }

    /// Visits the frames of seqs `from..<to` in order. `visit` returns false to stop before the
    /// frame it was shown (the frame is then where the next read resumes). The tail is re-read
    /// from disk first when `mayRefresh` and fewer than `required` entries are known.
    package func walk(
        from: UInt64, to: UInt64, required: UInt64, readingPayloads: Bool, verifyingHashes: Bool, mayRefresh: Bool,
        _ visit: (EntryFrame.Header, UnsafeRawBufferPointer?) -> Bool
    ) throws(JournalError) {
        var state = published.withLock { $0 }
        if state.closed { throw JournalError(.closed, path: options.directory, "the journal is closed") }
        // Catch up with other processes only when the caller needs more than is known: reads
        // at the tail would otherwise take the file lock on every call.
        if required > state.count, mayRefresh {
            _ = try currentSize()
            state = published.withLock { $0 }
        }
        guard from <= state.count else {
            throw JournalError(
                .invalidArgument, path: options.directory,
                "seq \(from) is beyond the end of the journal (\(state.count) entries): a cursor or checkpoint ahead of the journal means entries were lost"
            )
        }
        let end = min(to, state.count)
        guard from < end else { return }

        let window = windowPool.withLock { $0.popLast() } ?? ReadWindow()
        window.reset()
        defer { windowPool.withLock { if $0.count < 8 { $0.append(window) } } }

        // The segment holding `from`: the last one starting at or before it.
        var segmentIndex = state.segments.lastIndex { $0 <= from } ?? 0
        var segment = state.segments[segmentIndex]
        var point = ChainPoint(nextSeq: segment, prevHash: segment == 0 ? .zero : nil, offset: 0)
        if let hint = readHints.withLock({ hints in
            hints.filter { $0.segment == segment && $0.point.nextSeq <= from }.max {
                $0.point.nextSeq < $1.point.nextSeq
            }
        }) {
            point = hint.point
        }
        var handle = try readHandle(segment)
        defer {
            if point.prevHash != nil {
                let hint = ReadHint(point: point, segment: segment)
                readHints.withLock { hints in
                    hints.removeAll { $0.segment == hint.segment && $0.point.nextSeq == hint.point.nextSeq }
                    if hints.count >= 16 { hints.removeFirst() }
                    hints.append(hint)
                }
            }
        }

        while point.nextSeq < end {
            guard let headerBytes = try window.bytes(handle, at: point.offset, count: EntryFrame.headerSize) else {
                let size = try Self.fileSize(handle)
                guard size == point.offset, segmentIndex + 1 < state.segments.count else {
                    throw JournalError(
                        .corrupt, path: handle.path, offset: point.offset,
                        "entry seq \(point.nextSeq) is missing: "
                            + (size == point.offset
                                ? "the last segment ends here"
                                : FrameDefect.shortHeader(available: size - point.offset).description))
                }
                let next = state.segments[segmentIndex + 1]
                guard next == point.nextSeq else {
                    throw JournalError(
                        .corrupt, path: segmentPath(next),
                        "segment starts at seq \(next) but the previous segment (\(handle.path)) ends at seq \(Int64(point.nextSeq) - 1)"
                    )
                }
                segmentIndex += 1
                segment = next
                handle = try readHandle(segment)
                point.offset = 0
                continue
            }
            guard let header = EntryFrame.header(at: headerBytes.baseAddress!) else {
                throw JournalError(.corrupt, path: handle.path, offset: point.offset, FrameDefect.badHeader.description)
            }
            guard header.seq == point.nextSeq else {
                throw JournalError(
                    .corrupt, path: handle.path, offset: point.offset,
                    FrameDefect.seqMismatch(expected: point.nextSeq, found: header.seq).description)
            }
            if let expected = point.prevHash, expected != header.prevHash {
                throw JournalError(
                    .corrupt, path: handle.path, offset: point.offset,
                    FrameDefect.prevHashMismatch(seq: header.seq).description)
            }
            let visiting = header.seq >= from
            var payload: UnsafeRawBufferPointer?
            if visiting, readingPayloads || verifyingHashes {
                payload = try window.bytes(
                    handle, at: point.offset + UInt64(EntryFrame.headerSize), count: header.payloadCount)
                guard let payload else {
                    let available = try Self.fileSize(handle) - point.offset - UInt64(EntryFrame.headerSize)
                    throw JournalError(
                        .corrupt, path: handle.path, offset: point.offset,
                        FrameDefect.shortPayload(expected: header.payloadCount, available: available).description)
                }
                if verifyingHashes, ChainHash.leafHash(of: payload) != header.hash {
                    throw JournalError(
                        .corrupt, path: handle.path, offset: point.offset,
                        FrameDefect.hashMismatch(seq: header.seq).description)
                }
            }
            if visiting, !visit(header, payload) { break }
            point = ChainPoint(
                nextSeq: header.seq + 1, prevHash: header.hash, offset: point.offset + UInt64(header.frameCount))
        }
    }

    /// A cached read-only descriptor for a segment.
    func readHandle(_ segment: UInt64) throws(JournalError) -> JournalFileHandle {
        if let handle = readHandles.withLock({ $0[segment] }) { return handle }
        let path = segmentPath(segment)
        switch FileIO.open(path, O_RDONLY) {
        case .failure(let error):
            throw JournalError.io(error.code, path: path, "cannot open for reading")
        case .success(let fd):
            let handle = JournalFileHandle(fd: fd, path: path)
            return readHandles.withLock { handles in
                if let existing = handles[segment] { return existing }
                // Bound the descriptors a long journal keeps open; an evicted one closes when the
                // last read using it finishes.
                if handles.count >= 64, let victim = handles.keys.first { handles[victim] = nil }
                handles[segment] = handle
                return handle
            }
        }
    }
}
