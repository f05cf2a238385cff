/// The next records a sink needs, from its cursor: entries in `seq` order with each checkpoint
/// placed right after the last entry it covers (a checkpoint of size n follows entry n-1), so
/// a sink that stores records in order can always be verified on its own.
struct DeliveryBatch: Sendable {
    var records: [AuditRecord]
    /// The records laid out for the plugins.
    var audit: AuditBatch
    /// Where the cursor stood before the batch.
    var start: SinkCursor
    /// Entries in the journal not yet stored by the sink when the batch was read.
    var lag: UInt64

    /// Whether the journal held more entries than fit in this batch when it was read.
    var hasMore: Bool

    static func next(log: AuditLog, sink: String, settings: DeliverySettings) throws -> DeliveryBatch {
        try next(log: log, from: try log.cursors.load(sink) ?? SinkCursor(nextSeq: 0, checkpointSize: 0), settings: settings)
    }

    static func next(log: AuditLog, from cursor: SinkCursor, settings: DeliverySettings) throws -> DeliveryBatch {
        let journalSize = log.journal.knownSize
        let entries = try log.journal.entries(
            from: cursor.nextSeq, maxCount: settings.batchEntries, maxBytes: settings.batchBytes)
        let lastEntry = entries.last.map { $0.seq + 1 } ?? cursor.nextSeq
        var pending = try log.checkpoints(after: cursor.checkpointSize, upToSize: lastEntry)
        var records: [AuditRecord] = []
        records.reserveCapacity(entries.count + pending.count)
        // Checkpoints whose size equals the cursor (their entries went in an earlier batch).
        while let first = pending.first, first.size <= cursor.nextSeq {
            records.append(first.record)
            pending.removeFirst()
        }
        for entry in entries {
            records.append(
                AuditRecord(kind: .entry, seq: entry.seq, hash: entry.hash, prevHash: entry.prevHash, data: entry.payload))
            while let first = pending.first, first.size == entry.seq + 1 {
                records.append(first.record)
                pending.removeFirst()
            }
        }
        return DeliveryBatch(
            records: records, audit: AuditBatch(chainID: log.chainID, records: records), start: cursor,
            lag: journalSize > cursor.nextSeq ? journalSize - cursor.nextSeq : 0, hasMore: journalSize > lastEntry)
    }

    /// The cursor once the first `count` records are stored.
    func cursor(after count: Int) -> SinkCursor {
        var cursor = start
        for record in records.prefix(count) {
            switch record.kind {
            case .entry: cursor.nextSeq = record.seq + 1
            case .checkpoint: cursor.checkpointSize = max(cursor.checkpointSize, record.seq)
            }
        }
        return cursor
    }
}
