import Foundation
import LaForgeCore
import LaForgeJournal
import LaForgePlugins
import Logging

/// The audit trail of one state directory: the API the compiler, generated services and the
/// CLI record events through.
///
/// `emit` validates, minimizes PII, canonicalizes (RFC 8785) and appends to the hash-chained
/// journal; it returns once the events are durable (group commit), or throws — fail-closed by
/// default, nothing is reported recorded that is not on disk. Sinks are fed from the journal
/// asynchronously by delivery workers, so a slow or dead sink never blocks emit.
public final class AuditLog: @unchecked Sendable {
    // @unchecked: immutable after open except for the checkpoint cache, which has its own lock.
    public let config: LaForgeConfig
    public let stateDirectory: String
    public let chainID: String
    public let origin: String
    public let journal: Journal
    public let cursors: CursorStore
    public let logger: Logger
    public let metrics: MetricsRegistry
    /// Things the operator should know about opening (a key generated, a torn tail truncated).
    public let notices: [String]
    let checkpointer: Checkpointer
    let pii: PIIMinimizer?
    private let checkpointCache = LockedValue<[UInt64: AuditRecord]>([:])
    /// Bulk ingests (`NDJSONIngest`) in this process that have groups waiting to be committed.
    private let backloggedIngests = LockedValue(0)

    public static func defaultOrigin(chainID: String) -> String { "laforge/\(chainID)" }

    public static func open(
        config: LaForgeConfig, logger: Logger = .host, metrics: MetricsRegistry? = nil
    ) throws(AuditLogError) -> AuditLog {
        let audit = config.audit
        let origin = audit.checkpoints.origin ?? defaultOrigin(chainID: audit.chainID)
        let keys = AuditKeys(config: config)
        var notices: [String] = []
        let logger = logger
        let resolvedMetrics = metrics ?? MetricsRegistry(logger: logger)
        // A KMS that is down must not stop recording: the journal takes the entries and
        // checkpoints follow once the key can be unwrapped (asked again with backoff).
        let signer: Ed25519SigningKey?
        var unavailable: AuditLogError?
        do {
            let (key, signerNotice) = try keys.checkpointSigner(origin: origin)
            if let signerNotice { notices.append(signerNotice) }
            signer = key
        } catch where error.kind == .keyUnavailable {
            signer = nil
            unavailable = error
            notices.append("warning: \(error.message); events are recorded, checkpoints follow when the key is back")
            logger.error("audit: \(error.message); entries are recorded without a checkpoint until it is back")
        }
        let verifiers = try keys.verifierKeys(signer: signer?.verifierKey ?? keys.publishedCheckpointVerifierKey())

        var pii: PIIMinimizer?
        if !audit.pii.drop.isEmpty || !audit.pii.hash.isEmpty {
            let (key, notice) = try keys.piiKey()
            if let notice { notices.append(notice) }
            pii = PIIMinimizer(
                drop: audit.pii.drop.compactMap(AuditFieldPath.init), hash: audit.pii.hash.compactMap(AuditFieldPath.init),
                keyID: audit.pii.keyID, key: key)
        }

        let entryPrefix = AuditEntry.entryPrefix(chainID: audit.chainID)
        let journal: Journal
        do {
            journal = try Journal.open(
                JournalOptions(
                    directory: (config.stateDir as NSString).appendingPathComponent("journal"),
                    fsync: JournalFsync(rawValue: audit.journal.fsync.rawValue) ?? .group,
                    segmentBytes: audit.journal.segmentBytes),
                linker: { body, seq, prevHash, output in
                    AuditEntry.append(entryPrefix, event: body, seq: seq, prevHash: prevHash, to: &output)
                })
        } catch {
            throw AuditLogError(error.kind == .corrupt ? .corrupt : .storage, "cannot open the journal: \(error)")
        }
        // Logged rather than listed as notices, so an embedder sees them too (once).
        for recovery in journal.recoveries {
            logger.log(level: recovery.mayBeSignedCheckpoint ? .error : .warning, "journal recovery: \(recovery)")
        }
        let checkpointer = Checkpointer(
            signer: signer, unavailable: unavailable, otherVerifiers: verifiers, origin: origin, settings: audit.checkpoints,
            metrics: resolvedMetrics, logger: logger,
            loadSigner: { () throws(AuditLogError) -> Ed25519SigningKey in try keys.checkpointSigner(origin: origin).0 })
        return AuditLog(
            config: config, origin: origin, journal: journal, logger: logger, metrics: resolvedMetrics,
            notices: notices, checkpointer: checkpointer, pii: pii)
    }

    private init(
        config: LaForgeConfig, origin: String, journal: Journal, logger: Logger, metrics: MetricsRegistry,
        notices: [String], checkpointer: Checkpointer, pii: PIIMinimizer?
    ) {
        self.config = config
        self.stateDirectory = config.stateDir
        self.chainID = config.audit.chainID
        self.origin = origin
        self.journal = journal
        self.cursors = CursorStore(stateDirectory: config.stateDir)
        self.logger = logger
        self.metrics = metrics
        self.notices = notices
        self.checkpointer = checkpointer
        self.pii = pii
    }

    /// Whether a bulk ingest in this process is behind its input (delivery workers hold back
    /// for up to `delivery.ingest_defer_ms` then, see `DeliveryWorker`).
    public var isIngestBacklogged: Bool { backloggedIngests.withLock { $0 > 0 } }

    /// Marks one bulk ingest as behind its input (`true`) or caught up (`false`).
    func setIngestBacklogged(_ backlogged: Bool) {
        backloggedIngests.withLock { $0 += backlogged ? 1 : -1 }
    }

    /// Keys checkpoints of this log may carry (the signer and configured older keys).
    public var verifierKeys: [Ed25519VerifierKey] { checkpointer.verifiers }

    /// Why checkpoints cannot be signed now (the KMS that unwraps the key is down), nil when
    /// they can. Entries are recorded meanwhile and the next checkpoint covers them.
    public var checkpointKeyProblem: AuditLogError? { checkpointer.signerProblem }

    /// Records one event. Returns nil only with `fail_closed: false` when the journal could not
    /// persist it (logged and counted in `laforge_audit_dropped_total`).
    @discardableResult
    public func emit(_ event: AuditEvent) throws(AuditLogError) -> JournalEntryReceipt? {
        try emit([event]).first
    }

    /// Records events in order, as one group: one fsync for all.
    @discardableResult
    public func emit(_ events: [AuditEvent]) throws(AuditLogError) -> [JournalEntryReceipt] {
        try record(try prepare(events))
    }

    /// The first half of `emit`, safe to run on another thread than `record`: validates and
    /// canonicalizes (after PII minimization). A pipeline prepares the next group while the
    /// previous one is being written and synced.
    public func prepare(_ events: [AuditEvent]) throws(AuditLogError) -> [[UInt8]] {
        var bodies: [[UInt8]] = []
        bodies.reserveCapacity(events.count)
        for (index, event) in events.enumerated() {
            do { try event.validate() } catch {
                throw AuditLogError(.invalidEvent, events.count > 1 ? "event \(index + 1): \(error)" : error.description)
            }
            bodies.append(try canonicalBody(event))
        }
        return bodies
    }

    /// The second half of `emit`: appends prepared bodies durably and signs a checkpoint when due.
    public func record(_ bodies: [[UInt8]]) throws(AuditLogError) -> [JournalEntryReceipt] {
        try append(count: bodies.count) { () throws(JournalError) in try journal.append(bodies) }
    }

    /// `record` for bodies already linked by `journal.link` (a pipeline links the next group
    /// while the previous one is being synced).
    public func record(_ linked: LinkedGroup) throws(AuditLogError) -> [JournalEntryReceipt] {
        try append(count: linked.count) { () throws(JournalError) in try journal.append(linked) }
    }

    /// The canonical event bytes that go into an entry (after PII minimization).
    public func canonicalBody(_ event: AuditEvent) throws(AuditLogError) -> [UInt8] {
        let bytes = pii.map { JSONCanonicalizer.canonicalize($0.apply(to: event.jsonValue())) } ?? event.canonicalBytes()
        guard bytes.count <= AuditEvent.maximumCanonicalBytes else {
            throw AuditLogError(.invalidEvent, "the event is \(bytes.count) bytes; the limit is \(AuditEvent.maximumCanonicalBytes)")
        }
        return bytes
    }

    /// `laforge audit hash-value`: the HMAC a hashed field holds for a known value.
    public func piiHash(of value: String) throws(AuditLogError) -> String {
        if let pii { return pii.hashValue(.string(value)) }
        let (key, _) = try AuditKeys(config: config).piiKey()
        return PIIMinimizer(drop: [], hash: [], keyID: config.audit.pii.keyID, key: key).hashValue(.string(value))
    }

    private func append(
        count: Int, _ write: () throws(JournalError) -> [JournalEntryReceipt]
    ) throws(AuditLogError) -> [JournalEntryReceipt] {
        guard count > 0 else { return [] }
        let receipts: [JournalEntryReceipt]
        do {
            receipts = try write()
        } catch {
            guard config.audit.journal.failClosed else {
                metrics.counterAdd("laforge_audit_dropped_total", Double(count))
                logger.error("audit: \(count) event(s) NOT recorded (fail_closed is false): \(error)")
                return []
            }
            throw AuditLogError(.notDurable, "the audit journal could not persist the event(s); nothing was recorded: \(error)")
        }
        metrics.counterAdd("laforge_audit_events_total", Double(receipts.count))
        let receiptMode = config.audit.checkpoints.receipts
        do {
            try checkpointer.signIfDue(journal, force: receiptMode, receiptRequired: receiptMode)
        } catch {
            // The entries are durable; a checkpoint failure must not turn them into an error —
            // except in receipt mode, where the caller asked for a signed receipt.
            if receiptMode { throw error }
            logger.error("audit: \(error)")
        }
        return receipts
    }

    /// Signs a checkpoint over everything recorded, if anything is not yet covered.
    @discardableResult
    public func signCheckpoint() throws(AuditLogError) -> UInt64? {
        try checkpointer.signIfDue(journal, force: true)
    }

    /// Signs a checkpoint if one is due by count or time (for a periodic timer).
    @discardableResult
    public func signCheckpointIfDue() throws(AuditLogError) -> UInt64? {
        try checkpointer.signIfDue(journal, force: false)
    }

    /// Stored checkpoints as sink records, with size in (after, upToSize], oldest first.
    func checkpoints(after: UInt64, upToSize: UInt64) throws -> [(size: UInt64, record: AuditRecord)] {
        guard upToSize > after else { return [] }
        var result: [(size: UInt64, record: AuditRecord)] = []
        for stored in try journal.checkpoints() where stored.size > after && stored.size <= upToSize {
            if let cached = checkpointCache.withLock({ $0[stored.size] }) {
                result.append((stored.size, cached))
                continue
            }
            let (checkpoint, _, payload) = try checkpointer.open(stored)
            let record = AuditRecord(
                kind: .checkpoint, seq: stored.size, hash: checkpoint.rootHash, prevHash: nil, data: Array(payload.note.utf8))
            checkpointCache.withLock { $0[stored.size] = record }
            result.append((stored.size, record))
        }
        return result
    }

    /// Clean shutdown: signs a final checkpoint covering everything, then closes the journal.
    public func close() throws(AuditLogError) {
        defer { journal.close() }
        try checkpointer.signIfDue(journal, force: true)
    }
}
