import Foundation
import LaForgeCore
import LaForgeJournal
import LaForgePlugins

/// Feeds one sink from the journal, in `seq` order, from the sink's own persisted cursor.
///
/// The journal is the source of truth, so the worker never holds entries the journal does
/// not: a sink that is down only makes its cursor lag (memory stays flat), and a restart
/// resumes from the cursor. RETRY backs off with full jitter, unbounded by default;
/// PERMANENT_ERROR dead-letters the one refused record and moves on; a plugin that breaks the
/// contract is retried like RETRY, never counted as delivered. A sink whose plugin did not
/// start (its create failed) is started here, retried with the same backoff, while the other
/// workers deliver.
public final class DeliveryWorker: @unchecked Sendable {
    // @unchecked: used from one thread at a time (its own, or the caller's for `deliver`).
    /// The sink's configured name.
    public let name: String
    /// The started instance; nil until `unstarted` starts.
    private var sink: AuditSinkInstance?
    private let unstarted: UnstartedAuditSink?
    private let startStatus: SinkStartStatus
    private var startAttempts = 0
    /// What this worker has seen (lag, failures, dead letters), readable while it runs.
    public let progress = DeliveryProgress()
    private let log: AuditLog
    private let settings: DeliverySettings
    private let retry: RetryPolicy
    private let deadLetter: DeadLetterFile
    private var failures = 0
    /// When the cursor was last made durable (monotonic ns), and whether a store came since.
    private var cursorSyncedAt: UInt64 = 0
    private var cursorUnsynced = false
    /// The seq the sink needs next, as of the last batch read or stored; nil before the first.
    private var nextSeq: UInt64?
    /// Since when a following worker has had entries waiting (monotonic ns); nil when caught up.
    private var behindSince: UInt64?
    /// The cursor as this worker last stored it, and the batch being read from where the
    /// current one ends (used when the current one is stored whole).
    private var storedCursor: SinkCursor?
    private var prefetched: (start: SinkCursor, batch: PendingValue<Result<DeliveryBatch, any Error>>)?
    /// How stale the durable cursor may get. Syncing it after every batch cost as much disk time
    /// as the sink's own writes on small batches; a crash re-sends at most this much to a sink
    /// that is idempotent by seq anyway.
    static let cursorSyncIntervalNanoseconds: UInt64 = 1_000_000_000

    convenience init(sink: AuditSinkInstance, log: AuditLog, settings: DeliverySettings) {
        self.init(name: sink.name, sink: sink, unstarted: nil, log: log, settings: settings)
    }

    convenience init(unstarted: UnstartedAuditSink, log: AuditLog, settings: DeliverySettings) {
        self.init(name: unstarted.name, sink: nil, unstarted: unstarted, log: log, settings: settings)
        startAttempts = 1  // the runtime's create was the first
    }

    private init(name: String, sink: AuditSinkInstance?, unstarted: UnstartedAuditSink?, log: AuditLog, settings: DeliverySettings) {
        self.name = name
        self.sink = sink
        self.unstarted = unstarted
        self.log = log
        self.settings = settings
        self.retry = RetryPolicy(settings)
        self.deadLetter = DeadLetterFile(stateDirectory: log.stateDirectory, sink: name)
        self.startStatus = SinkStartStatus(stateDirectory: log.stateDirectory, sink: name)
        if let unstarted, sink == nil {
            progress.update { $0.started = false }
            progress.failed("not started: \(unstarted.lastError.message)")
        }
    }

    private var labels: [String: String] { ["sink": name] }

    /// Delivers until the sink holds every entry (and checkpoint) the journal has at the time
    /// of each check, or until `deadline` (monotonic ns; nil: no limit) or `stop` says so.
    /// With `follow`, keeps waiting for new entries instead of returning when caught up, and
    /// sends a batch once it is full or its first entry has waited `linger_ms` (until `drain`
    /// says to send what there is). Returns whether the sink was caught up when it returned.
    @discardableResult
    public func run(
        deadline: UInt64? = nil, follow: Bool = false, stop: StopSignal = StopSignal(), drain: StopSignal = StopSignal()
    ) -> Bool {
        let lock: DeliveryLock?
        do {
            lock = try DeliveryLock.acquire(stateDirectory: log.stateDirectory, sink: name, deadline: deadline, stop: stop)
        } catch {
            log.logger.error("sink \(name): cannot take the delivery lock: \(error)")
            return false
        }
        guard let lock else {
            if !stop.isStopped {
                log.logger.warning("sink \(name): another process holds its delivery lock (e.g. `laforge audit deliver --follow`); it delivers what was recorded")
            }
            return false
        }
        defer { withExtendedLifetime(lock) {} }
        progress.update { $0.running = true }
        defer { progress.update { $0.running = false } }
        defer { syncCursor() }  // before the lock goes: the next holder starts from a durable cursor
        guard let sink = startedSink(deadline: deadline, stop: stop) else { return false }
        if nextSeq == nil { nextSeq = (try? log.cursors.load(name))?.nextSeq ?? 0 }

        while !stop.isStopped {
            if let deadline, monotonicNanoseconds() >= deadline { return false }
            if follow, !drain.isStopped, let wait = lingerMilliseconds() {
                _ = pause(milliseconds: wait, deadline: deadline, stop: stop)
                continue
            }
            let batch: DeliveryBatch
            do {
                batch = try nextBatch()
            } catch {
                log.logger.error("sink \(name): cannot read the journal or cursor: \(error)")
                progress.failed("cannot read the journal or cursor: \(error)")
                guard pause(milliseconds: retry.delayMilliseconds(attempt: failures), deadline: deadline, stop: stop) else { return false }
                failures += 1
                continue
            }
            nextSeq = batch.start.nextSeq
            log.metrics.gaugeSet("laforge_delivery_lag_entries", labels: labels, Double(batch.lag))
            progress.observed(lag: batch.lag)
            if batch.isEmpty {
                syncCursor()
                guard follow else { return true }
                _ = pause(milliseconds: max(settings.lingerMilliseconds, 10), deadline: deadline, stop: stop)
                continue
            }
            // While the sink stores this batch, the next one is read (a worker catching up
            // would otherwise alternate between reading the journal and waiting for the sink).
            if batch.hasMore { prefetch(after: batch) }
            if !deliver(batch, to: sink, deadline: deadline, stop: stop) { return false }
        }
        return false
    }

    /// The sink's instance, starting the plugin first if its create failed so far: retried
    /// with the delivery backoff (unbounded: a sink that comes up later gets everything from
    /// the journal) until it starts, or nil when stopped or past `deadline`.
    private func startedSink(deadline: UInt64?, stop: StopSignal) -> AuditSinkInstance? {
        if let sink { return sink }
        guard let unstarted else { return nil }
        while true {
            do {
                let started = try unstarted.start()
                log.logger.notice("sink \(name) started after \(startAttempts + 1) attempt(s); delivering what the journal holds for it")
                log.metrics.gaugeSet("laforge_sink_started", labels: labels, 1)
                startStatus.recordStarted()
                progress.update {
                    $0.started = true
                    $0.failing = false
                }
                sink = started
                return started
            } catch {
                startAttempts += 1
                log.metrics.gaugeSet("laforge_sink_started", labels: labels, 0)
                log.metrics.counterAdd("laforge_sink_start_failures_total", labels: labels, 1)
                startStatus.recordFailure(error.message, attempts: startAttempts)
                progress.failed("not started: \(error.message)")
                let wait = retry.delayMilliseconds(attempt: min(startAttempts - 1, 30))
                log.logger.error("sink \(name) is not started (attempt \(startAttempts)): \(error.message); retrying in \(wait) ms")
                guard pause(milliseconds: wait, deadline: deadline, stop: stop) else { return nil }
            }
        }
    }

    /// The batch prefetched from where the cursor now stands, else one read now.
    private func nextBatch() throws -> DeliveryBatch {
        if let prefetched {
            self.prefetched = nil
            if prefetched.start == storedCursor { return try prefetched.batch.wait().get() }
        }
        return try DeliveryBatch.next(log: log, sink: name, settings: settings)
    }

    private func prefetch(after batch: DeliveryBatch) {
        let start = batch.cursor(after: batch.audit.count)
        let future = PendingValue<Result<DeliveryBatch, any Error>>()
        let (log, settings) = (self.log, self.settings)
        DispatchQueue.global().async {
            future.fill(Result { try DeliveryBatch.next(log: log, from: start, settings: settings) })
        }
        prefetched = (start, future)
    }

    /// How much longer to hold back: nil to send now. A following worker waits
    /// - while a bulk ingest in this process is behind its input, up to `ingest_defer_ms` after
    ///   entries started waiting: on a small machine, recording (what emit acknowledges) and
    ///   delivery compete for the same cores and disk syncs, and recording first is faster for
    ///   both; the journal holds everything meanwhile;
    /// - for a fuller batch, up to `linger_ms`: fewer, fuller batches mean fewer sink syncs and
    ///   requests while events keep arriving.
    /// Once entries have waited that long it sends batch after batch until caught up.
    private func lingerMilliseconds() -> Int? {
        guard let nextSeq else { return nil }
        let known = log.journal.knownSize
        guard known > nextSeq else {
            behindSince = nil
            return nil
        }
        let now = monotonicNanoseconds()
        let since = behindSince ?? now
        behindSince = since
        let waited = Int(ClockArithmetic.elapsed(since: since, now: now) / 1_000_000)
        var limit = 0
        if log.isIngestBacklogged { limit = settings.ingestDeferMilliseconds }
        if known - nextSeq < UInt64(settings.batchEntries) { limit = max(limit, settings.lingerMilliseconds) }
        guard waited < limit else { return nil }
        return min(limit - waited, 10)
    }

    /// Sends one batch until it is stored (retrying) or until stopped. False when stopped.
    private func deliver(_ batch: DeliveryBatch, to sink: AuditSinkInstance, deadline: UInt64?, stop: StopSignal) -> Bool {
        let audit = batch.audit
        var start = 0
        while start < audit.count {
            let outcome: SinkWriteOutcome
            do {
                outcome = try sink.write(audit, from: start)
            } catch {
                outcome = .retry(stored: 0, message: error.description)
                log.logger.error("sink \(name): \(error)")
            }
            switch outcome {
            case .stored:
                advance(batch, through: audit.count)
                log.metrics.counterAdd("laforge_delivery_records_total", labels: labels, Double(audit.count - start))
                progress.stored(audit.count - start)
                failures = 0
                return true
            case .retry(let stored, let message):
                acknowledge(stored, of: batch, from: &start)
                failures += 1
                log.metrics.counterAdd("laforge_delivery_retries_total", labels: labels, 1)
                progress.update { $0.retries += 1 }
                progress.failed(message)
                if retry.isExhausted(afterFailures: failures) {
                    deadLetterRecord(batch.audit.record(at: start), error: "gave up after \(failures) attempts: \(message)")
                    start += 1
                    advance(batch, through: start)
                    failures = 0
                    continue
                }
                let wait = retry.delayMilliseconds(attempt: failures - 1)
                log.logger.warning("sink \(name): write failed, retrying in \(wait) ms (attempt \(failures)): \(message)")
                guard pause(milliseconds: wait, deadline: deadline, stop: stop) else { return false }
            case .refused(let stored, let message):
                // The sink, not a record, is the problem: keep everything and ask again later,
                // however long it takes (the retry limit is for records, not for operators).
                acknowledge(stored, of: batch, from: &start)
                failures += 1
                log.metrics.counterAdd("laforge_delivery_refusals_total", labels: labels, 1)
                progress.update { $0.refusals += 1 }
                progress.failed(message)
                let wait = retry.delayMilliseconds(attempt: failures - 1)
                log.logger.error("sink \(name): refuses access, an operator must act; \(audit.count - start) record(s) kept, asking again in \(wait) ms: \(message)")
                guard pause(milliseconds: wait, deadline: deadline, stop: stop) else { return false }
            case .permanentError(let stored, let message):
                start += stored
                log.metrics.counterAdd("laforge_delivery_records_total", labels: labels, Double(stored))
                progress.stored(stored)
                progress.failed(message)
                deadLetterRecord(batch.audit.record(at: start), error: message)
                start += 1
                advance(batch, through: start)
                failures = 0
            }
        }
        return true
    }

    /// The sink stored the `stored` records from `start` before it answered RETRY or
    /// ACCESS_DENIED: they count as delivered and the cursor moves past them.
    private func acknowledge(_ stored: Int, of batch: DeliveryBatch, from start: inout Int) {
        guard stored > 0 else { return }
        start += stored
        advance(batch, through: start)
        log.metrics.counterAdd("laforge_delivery_records_total", labels: labels, Double(stored))
        progress.stored(stored)
    }

    private func advance(_ batch: DeliveryBatch, through count: Int) {
        let now = monotonicNanoseconds()
        let sync = ClockArithmetic.elapsed(since: cursorSyncedAt, now: now) >= Self.cursorSyncIntervalNanoseconds
        do {
            let cursor = batch.cursor(after: count)
            nextSeq = cursor.nextSeq
            try log.cursors.store(name, cursor, sync: sync)
            storedCursor = cursor
            if sync { cursorSyncedAt = now }
            cursorUnsynced = !sync
        } catch {
            // The sink has the records; a lost cursor update only means they are re-sent, and
            // sinks are idempotent by seq.
            log.logger.error("sink \(name): cannot persist the cursor: \(error)")
        }
    }

    /// Makes a cursor stored without sync durable (idle, or the worker stops).
    private func syncCursor() {
        guard cursorUnsynced else { return }
        do {
            try log.cursors.sync(name)
            cursorUnsynced = false
            cursorSyncedAt = monotonicNanoseconds()
        } catch {
            log.logger.error("sink \(name): cannot persist the cursor: \(error)")
        }
    }

    private func deadLetterRecord(_ record: AuditRecord, error: String) {
        log.metrics.counterAdd("laforge_delivery_dead_letters_total", labels: labels, 1)
        progress.update { $0.deadLetters += 1 }
        do {
            try deadLetter.append(record: record, sink: name, error: error)
        } catch {
            log.logger.error("sink \(name): cannot write the dead-letter file \(deadLetter.path): \(error)")
        }
        log.logger.error("sink \(name): refused \(record.kind == .entry ? "entry" : "checkpoint") \(record.seq) permanently; written to \(deadLetter.path): \(error)")
        // Record the refusal in the chain itself, except for the host's own records: a refused
        // `audit.dead_letter` event or a refused checkpoint. Recording those would add entries
        // whose delivery fails in turn (and a checkpoint over them, which fails too): with a
        // sink down and `max_attempts` > 0, one real event became 16 in 15 s. They are in the
        // dead-letter file, the log and the metric; a later checkpoint covers the same entries.
        if record.kind == .checkpoint { return }
        if let parsed = try? AuditEntry.parse(record.data), parsed.event["action"] == .string("audit.dead_letter") {
            return
        }
        let event = AuditEvent(
            actor: AuditActor(user: "laforge", roles: ["system"]), action: "audit.dead_letter", outcome: .failure,
            target: "sink:\(name)",
            data: [
                "seq": .number(Double(record.seq)),
                "kind": .string(record.kind == .entry ? "entry" : "checkpoint"),
                "hash": .string(record.hash.hexString),
                "error": .string(String(error.prefix(512))),
                "dead_letter_file": .string(deadLetter.path),
            ])
        do { _ = try log.emit(event) } catch {
            log.logger.error("sink \(name): cannot record the dead letter as an audit event: \(error)")
        }
    }

    /// Sleeps up to `milliseconds`, waking early on stop. False when stopped or past deadline.
    private func pause(milliseconds: Int, deadline: UInt64?, stop: StopSignal) -> Bool {
        var wakeAt = ClockArithmetic.deadline(afterMilliseconds: milliseconds, now: monotonicNanoseconds())
        if let deadline { wakeAt = min(wakeAt, deadline) }
        while true {
            // One reading per step: a second one could already be past `wakeAt`.
            let now = monotonicNanoseconds()
            guard now < wakeAt else { break }
            if stop.isStopped { return false }
            usleep(ClockArithmetic.sleepStep(until: wakeAt, now: now))
        }
        if let deadline, monotonicNanoseconds() >= deadline { return false }
        return !stop.isStopped
    }
}
