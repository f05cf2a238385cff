import LaForgeJournal
import LaForgePlugins

/// The next records a sink needs, from its cursor: entries in `seq` order with each checkpoint
/// placed right after the last entry it covers (a checkpoint of size n follows entry n-1), so
/// a sink that stores records in order can always be verified on its own.
struct DeliveryBatch: Sendable {
    /// The records laid out for the plugins.
    var audit: AuditBatch
    /// Where the cursor stood before the batch.
    var start: SinkCursor
    /// Entries in the journal not yet stored by the sink when the batch was read.
    var lag: UInt64
    /// Whether the journal held more entries than fit in this batch when it was read.
    var hasMore: Bool

    var isEmpty: Bool { audit.count == 0 }

    static func next(log: AuditLog, sink: String, settings: DeliverySettings) throws -> DeliveryBatch {
        try next(log: log, from: try log.cursors.load(sink) ?? SinkCursor(nextSeq: 0, checkpointSize: 0), settings: settings)
    }

    /// Entries are copied from the journal's frames straight into the batch's C layout (no
    /// array per entry), at most `batchEntries` of them and `batchBytes` of entry bytes.
    static func next(log: AuditLog, from cursor: SinkCursor, settings: DeliverySettings) throws -> DeliveryBatch {
        // The entries read stop at the size known before the checkpoints are: a checkpoint
        // signed later covers at least that many entries, so none can be missed in between and
        // arrive out of place. The journal is re-read from disk (its lock) only when nothing
        // known is left to deliver.
        var journalSize = log.journal.knownSize
        if journalSize <= cursor.nextSeq { journalSize = try log.journal.currentSize() }
        var pending = try log.checkpoints(after: cursor.checkpointSize, upToSize: max(journalSize, cursor.nextSeq))[...]
        let builder = AuditBatch.Builder(
            expectedBytes: min(settings.batchBytes, 1 << 20) + 8192, expectedRecords: min(settings.batchEntries, 4096) + 8)
        // Checkpoints whose size equals the cursor (their entries went in an earlier batch).
        while let first = pending.first, first.size <= cursor.nextSeq {
            builder.append(first.record)
            pending.removeFirst()
        }
        var entries = 0
        var bytes = 0
        var lastEntry = cursor.nextSeq
        let (end, overflow) = cursor.nextSeq.addingReportingOverflow(UInt64(settings.batchEntries))
        try log.journal.walk(
            from: cursor.nextSeq, to: min(overflow ? .max : end, journalSize), required: 0,
            readingPayloads: true, verifyingHashes: false, mayRefresh: false
        ) { header, payload in
            if entries > 0, bytes + header.payloadCount > settings.batchBytes { return false }
            entries += 1
            bytes += header.payloadCount
            withUnsafeBytes(of: header.hash) { hash in
                withUnsafeBytes(of: header.prevHash) { prevHash in
                    builder.append(kind: .entry, seq: header.seq, hash: hash, prevHash: prevHash, data: payload!)
                }
            }
            lastEntry = header.seq + 1
            while let first = pending.first, first.size == header.seq + 1 {
                builder.append(first.record)
                pending.removeFirst()
            }
            return true
        }
        return DeliveryBatch(
            audit: AuditBatch(chainID: log.chainID, building: builder), start: cursor,
            lag: journalSize > cursor.nextSeq ? journalSize - cursor.nextSeq : 0, hasMore: journalSize > lastEntry)
    }

    /// The cursor once the first `count` records are stored.
    func cursor(after count: Int) -> SinkCursor {
        var cursor = start
        for index in 0..<count {
            switch audit.kind(at: index) {
            case .entry: cursor.nextSeq = audit.seq(at: index) + 1
            case .checkpoint: cursor.checkpointSize = max(cursor.checkpointSize, audit.seq(at: index))
            }
        }
        return cursor
    }
}
