import Foundation
import LaForgeCore
import LaForgeJournal
import LaForgePlugins

/// Sends a sink's open dead letters to it again, once the cause of the refusal is fixed, so
/// the sink ends up holding what it missed rather than a permanent gap.
///
/// Each record is read from the journal (the source of truth), not from the dead-letter file,
/// and its hash must match the one the file recorded: a file edited by hand sends nothing.
/// Records go one at a time, in journal order, each with its durable `sending` / `replayed`
/// steps (`DeadLetterDispositions`), so a replay killed at any point is safe to run again:
/// what was replayed is not sent again, and the one record in doubt is re-sent, which the
/// sink takes as one (ABI.md: sinks are idempotent by seq). When the sink can read back, a
/// record it acknowledged is looked up there (for FileSink, which has no read_back, in its files)
/// before it counts as replayed: a sink that keeps records strictly in seq order (FileSink)
/// acknowledges an older seq without storing it.
public struct DeadLetterReplay {
    public struct Report: Sendable {
        /// Replayed now, in the order sent.
        public var replayed: [DeadLetter.RecordID] = []
        /// Of those, the ones an interrupted replay had left in doubt.
        public var resentInDoubt: [DeadLetter.RecordID] = []
    }

    public let log: AuditLog
    public let sink: AuditSinkInstance
    public let queue: DeadLetterQueue
    /// Attempts per record when the sink answers RETRY (full-jitter backoff between them).
    public var attemptsOnRetry = 5
    /// How long to wait for the sink's delivery lock held by another process.
    public var lockWaitMilliseconds = 2_000

    public init(log: AuditLog, sink: AuditSinkInstance) {
        self.log = log
        self.sink = sink
        queue = DeadLetterQueue(stateDirectory: log.stateDirectory, sink: sink.name)
    }

    /// Replays `ids` (nil: every open dead letter of the sink). Stops at the first record the
    /// sink does not store, throwing `.delivery` with its answer; what was replayed before
    /// stays replayed (the error says how many), and the rest stays open.
    public func run(_ ids: [DeadLetter.RecordID]?, actor: AuditActor) throws(DeadLetterError) -> Report {
        // One deliverer per sink: a delivery worker (serve, audit deliver --follow) writing
        // the same sink meanwhile would interleave with the replayed records.
        let lock: DeliveryLock?
        do {
            lock = try DeliveryLock.acquire(
                stateDirectory: log.stateDirectory, sink: sink.name,
                deadline: ClockArithmetic.deadline(afterMilliseconds: lockWaitMilliseconds, now: monotonicNanoseconds()))
        } catch {
            throw DeadLetterError(.storage, "sink \(sink.name): cannot take the delivery lock: \(error)")
        }
        guard let lock else {
            throw DeadLetterError(
                .delivery,
                "sink \(sink.name) is being delivered to by another process (laforge serve or audit deliver --follow holds cursors/\(sink.name).lock); stop it, replay, and start it again")
        }
        defer { withExtendedLifetime(lock) {} }

        let selected = try queue.select(ids, openOnly: true)
        // A record refused twice has two lines: it is sent once, and both lines are marked.
        var byID: [DeadLetter.RecordID: [(letter: DeadLetter, state: DeadLetterState)]] = [:]
        for item in selected { byID[item.letter.id, default: []].append(item) }
        var report = Report()
        for id in byID.keys.sorted() {
            let lines = byID[id]!
            let record = try journalRecord(id, expectedHash: lines[0].letter.hash, file: queue.file.path, line: lines[0].letter.line)
            try queue.dispositions.record(.sending, lines: lines.map(\.letter.line))
            do {
                do {
                    try send(record, id: id)
                } catch let answer as SinkAnswer {
                    try queue.dispositions.record(.refused, lines: lines.map(\.letter.line))
                    throw answer.error
                }
            } catch let error as DeadLetterError {
                throw DeadLetterError(
                    error.kind,
                    error.description + (report.replayed.isEmpty ? "" : " (\(report.replayed.count) record(s) replayed before it: \(report.replayed.map(\.description).joined(separator: ", ")))"))
            } catch {
                throw DeadLetterError(.delivery, "\(id): \(error)")
            }
            try queue.dispositions.record(.replayed, lines: lines.map(\.letter.line))
            report.replayed.append(id)
            if lines.contains(where: { $0.state == .inDoubt }) { report.resentInDoubt.append(id) }
        }
        if !report.replayed.isEmpty {
            let event = AuditEvent(
                actor: actor, action: "audit.dead_letter_replayed", outcome: .success, target: "sink:\(sink.name)",
                data: ["records": .array(report.replayed.map { .string($0.description) })])
            // The records are in the sink and marked; a failure to record the summary is reported
            // but changes nothing about them.
            do { _ = try log.emit(event) } catch {
                log.logger.error("sink \(sink.name): replayed \(report.replayed.count) dead letter(s) but could not record that in the audit chain: \(error)")
            }
        }
        return report
    }

    /// The record as the journal holds it, checked against the hash the dead letter recorded.
    private func journalRecord(_ id: DeadLetter.RecordID, expectedHash: String, file: String, line: Int) throws(DeadLetterError) -> AuditRecord {
        let record: AuditRecord
        switch id.kind {
        case .entry:
            let entries: [JournalEntry]
            do { entries = try log.journal.entries(from: id.seq, maxCount: 1, maxBytes: .max) } catch {
                throw DeadLetterError(.storage, "\(id): cannot read it from the journal: \(error)")
            }
            guard let entry = entries.first, entry.seq == id.seq else {
                throw DeadLetterError(.storage, "\(id) (\(file):\(line)) is not in the journal (size \(log.journal.knownSize)); nothing to send")
            }
            record = AuditRecord(kind: .entry, seq: entry.seq, hash: entry.hash, prevHash: entry.prevHash, data: entry.payload)
        case .checkpoint:
            let found: AuditRecord?
            do { found = try log.checkpointRecord(size: id.seq) } catch {
                throw DeadLetterError(.storage, "\(id): cannot read it from the checkpoint log: \(error)")
            }
            guard let found else {
                throw DeadLetterError(.storage, "\(id) (\(file):\(line)) is not in the checkpoint log; nothing to send")
            }
            record = found
        }
        guard record.hash.hexString == expectedHash else {
            throw DeadLetterError(
                .corrupt,
                "\(file):\(line): field \"hash\" is \(expectedHash) but the journal's \(id) has \(record.hash.hexString); nothing was sent (was the file edited?)")
        }
        return record
    }

    /// The sink answered and did not store the record (as opposed to an answer in doubt).
    private struct SinkAnswer: Error {
        var error: DeadLetterError
    }

    /// Throws `SinkAnswer` when the sink says no, `DeadLetterError` when the outcome is unknown.
    private func send(_ record: AuditRecord, id: DeadLetter.RecordID) throws {
        let batch = AuditBatch(chainID: log.chainID, records: [record])
        let retry = RetryPolicy(log.config.audit.delivery)
        var attempt = 0
        while true {
            let outcome: SinkWriteOutcome
            do { outcome = try sink.write(batch) } catch {
                outcome = .retry(stored: 0, message: error.description)
            }
            switch outcome {
            case .stored:
                try confirmStored(record, id: id)
                return
            case .permanentError(_, let message):
                throw SinkAnswer(error: DeadLetterError(.delivery, "sink \(sink.name) still refuses \(id) permanently: \(message); it stays a dead letter"))
            case .refused(_, let message):
                throw SinkAnswer(error: DeadLetterError(.delivery, "sink \(sink.name) refuses access (an operator must act): \(message); \(id) stays a dead letter"))
            case .retry(_, let message):
                attempt += 1
                guard attempt < attemptsOnRetry else {
                    throw SinkAnswer(error: DeadLetterError(.delivery, "sink \(sink.name) answered RETRY \(attempt) times for \(id): \(message); it stays a dead letter, run the replay again later"))
                }
                usleep(useconds_t(min(retry.delayMilliseconds(attempt: attempt - 1), 10_000)) * 1000)
            }
        }
    }

    /// For a sink with read_back: the acknowledged record must be there (same seq and kind; for
    /// an entry, the same bytes).
    private func confirmStored(_ record: AuditRecord, id: DeadLetter.RecordID) throws {
        var found = false
        if !sink.canReadBack {
            // FileSink offers no read_back: its files are read the way `verify chain --sink` does.
            guard let instance = log.config.sinks.first(where: { $0.name == sink.name }), instance.library.contains("FileSink"),
                let path = instance.configJSON["path"]?.stringValue
            else { return }
            let note = String(decoding: record.data, as: UTF8.self)
            for file in ChainSource.fileSet(for: path) where !found {
                guard let data = FileManager.default.contents(atPath: file) else { continue }
                for line in data.split(separator: 0x0A) where !found {
                    if record.kind == .entry {
                        found = Array(line) == record.data
                    } else if line.starts(with: Array(#"{"checkpoint""#.utf8)) {
                        found = (try? JSONParser.parse(Array(line)))?["checkpoint"]?.stringValue == note
                    }
                }
            }
            guard found else { throw notHeld(id) }
            return
        }
        do {
            try sink.readBack(chainID: log.chainID, from: record.kind == .entry ? record.seq : (record.seq == 0 ? 0 : record.seq - 1)) { stored in
                guard stored.kind == record.kind, stored.seq == record.seq else {
                    return !(stored.kind == .entry && stored.seq > record.seq)
                }
                found = record.kind == .checkpoint || Array(stored.data) == record.data
                return !found
            }
        } catch {
            throw DeadLetterError(.delivery, "sink \(sink.name) acknowledged \(id) but reading it back failed: \(error); it stays open (in doubt) and is sent again by the next replay")
        }
        guard found else { throw notHeld(id) }
    }

    private func notHeld(_ id: DeadLetter.RecordID) -> SinkAnswer {
        SinkAnswer(error: DeadLetterError(
            .delivery,
            "sink \(sink.name) acknowledged \(id) but does not hold it when read back (a sink that keeps records in seq order skips a seq older than what it already holds); it stays open, and the entry stays in the journal"))
    }
}

extension AuditLog {
    /// The stored checkpoint of tree size `size` as a sink record, or nil when none was signed.
    func checkpointRecord(size: UInt64) throws -> AuditRecord? {
        guard let stored = try journal.checkpoints().first(where: { $0.size == size }) else { return nil }
        let (checkpoint, _, payload) = try checkpointer.open(stored)
        return AuditRecord(kind: .checkpoint, seq: size, hash: checkpoint.rootHash, prevHash: nil, data: Array(payload.note.utf8))
    }
}
