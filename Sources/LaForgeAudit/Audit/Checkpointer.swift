import Foundation
import LaForgeCore
import LaForgeJournal
import LaForgePlugins
import Logging

/// Signs C2SP checkpoints over the journal: every N entries, every T ms, at clean shutdown, or
/// on demand (receipt mode). Each new checkpoint extends the signed frontier of the previous
/// one with the leaves appended since, under the journal's exclusive lock, so it is consistent
/// with every earlier checkpoint by construction; the previous frontier is checked against the
/// previous signed root before it is trusted.
final class Checkpointer: @unchecked Sendable {
    // @unchecked: immutable but for `lastOpened` and `signerState` (each locked); the journal
    // lock serializes signing across threads and processes.
    /// Keys checkpoints may carry besides the signer's: configured older keys, and the
    /// published `.pub` of a signer not yet unwrapped.
    private let otherVerifiers: [Ed25519VerifierKey]
    let origin: String
    let settings: CheckpointSettings
    private let metrics: MetricsRegistry
    private let logger: Logger
    /// The newest checkpoint this instance verified or signed, with its frontier: when the
    /// stored bytes are still exactly these, it need not be parsed and verified again.
    private let lastOpened = LockedValue<(stored: StoredCheckpoint, frontier: MerkleFrontier, signedAt: Int64)?>(nil)

    /// The signing key, or why it is missing and when to ask for it again. A KMS-wrapped key
    /// may be unreachable when the log opens; recording goes on and checkpoints wait for it.
    private struct SignerState {
        var key: Ed25519SigningKey?
        var problem: AuditLogError?
        var attempts = 0
        var nextAttemptAt: UInt64 = 0
        var loading = false
    }
    private let signerState: LockedValue<SignerState>
    private let loadSigner: @Sendable () throws(AuditLogError) -> Ed25519SigningKey
    /// How long to wait before asking for an unavailable key again: it doubles from the first
    /// value up to the last, so a KMS that is down is not asked on every append.
    static let keyRetryMilliseconds = (first: 1_000, cap: 60_000)

    init(
        signer: Ed25519SigningKey?, unavailable: AuditLogError? = nil, otherVerifiers: [Ed25519VerifierKey], origin: String,
        settings: CheckpointSettings, metrics: MetricsRegistry, logger: Logger,
        loadSigner: @escaping @Sendable () throws(AuditLogError) -> Ed25519SigningKey
    ) {
        self.otherVerifiers = otherVerifiers
        self.origin = origin
        self.settings = settings
        self.metrics = metrics
        self.logger = logger
        self.loadSigner = loadSigner
        var state = SignerState(key: signer, problem: unavailable)
        if signer == nil {
            state.attempts = 1
            state.nextAttemptAt = ClockArithmetic.deadline(afterMilliseconds: Self.keyRetryMilliseconds.first, now: monotonicNanoseconds())
        }
        self.signerState = LockedValue(state)
    }

    /// The signer's key (when it is loaded) and the other keys checkpoints may carry.
    var verifiers: [Ed25519VerifierKey] {
        guard let signer = signerState.withLock({ $0.key })?.verifierKey, !otherVerifiers.contains(signer) else { return otherVerifiers }
        return [signer] + otherVerifiers
    }

    /// Why no checkpoint can be signed now (nil: the key is there).
    var signerProblem: AuditLogError? { signerState.withLock { $0.key == nil ? $0.problem : nil } }

    /// The signing key, asking for it again when it was unavailable and the wait is over; nil
    /// while it stays unavailable (or another thread is asking).
    private func availableSigner() -> Ed25519SigningKey? {
        let now = monotonicNanoseconds()
        let ask = signerState.withLock { state -> Bool in
            guard state.key == nil, !state.loading, now >= state.nextAttemptAt else { return false }
            state.loading = true
            return true
        }
        if ask {
            let result = Result { () throws(AuditLogError) in try loadSigner() }
            signerState.withLock { state in
                state.loading = false
                switch result {
                case .success(let key):
                    state.key = key
                    state.problem = nil
                    logger.notice("audit: the checkpoint signing key is available again after \(state.attempts) failed attempt(s); the next checkpoint covers every entry recorded meanwhile")
                case .failure(let error):
                    state.problem = error
                    state.attempts += 1
                    let wait = min(Self.keyRetryMilliseconds.cap, Self.keyRetryMilliseconds.first << min(state.attempts - 1, 16))
                    state.nextAttemptAt = ClockArithmetic.deadline(afterMilliseconds: wait, now: monotonicNanoseconds())
                    logger.error("audit: \(error.message); entries are recorded without a checkpoint until it is back (asking again in \(wait) ms)")
                }
            }
        }
        return signerState.withLock { $0.key }
    }

    /// The journal's stored checkpoint payload: the signed note and when it was signed.
    struct Payload {
        var note: String
        var signedAtMicroseconds: Int64

        var bytes: [UInt8] {
            JSONCanonicalizer.canonicalize(.object([
                "note": .string(note), "signed_at_us": .number(Double(signedAtMicroseconds)),
            ]))
        }

        init(note: String, signedAtMicroseconds: Int64) {
            self.note = note
            self.signedAtMicroseconds = signedAtMicroseconds
        }

        init(bytes: [UInt8]) throws(AuditLogError) {
            guard let value = try? JSONParser.parse(bytes), case .string(let note)? = value["note"],
                  case .number(let time)? = value["signed_at_us"]
            else { throw AuditLogError(.storage, "a stored checkpoint is not readable (checkpoints.log)") }
            self.note = note
            self.signedAtMicroseconds = Int64(time)
        }
    }

    /// Opens a stored checkpoint note and the frontier it carries.
    func open(_ stored: StoredCheckpoint) throws(AuditLogError) -> (Checkpoint, MerkleFrontier, Payload) {
        let payload = try Payload(bytes: stored.payload)
        let checkpoint: Checkpoint
        do {
            checkpoint = try Checkpoint.open(note: payload.note, verifiers: verifiers, expectedOrigin: origin).0
        } catch {
            throw AuditLogError(.storage, "the stored checkpoint of size \(stored.size) does not verify: \(error)")
        }
        guard let line = checkpoint.extensions.first(where: { $0.hasPrefix(MerkleFrontier.checkpointExtensionPrefix) }),
              let data = Data(base64Encoded: String(line.dropFirst(MerkleFrontier.checkpointExtensionPrefix.count))),
              let frontier = try? MerkleFrontier(serialized: Array(data)),
              frontier.size == checkpoint.size, frontier.root() == checkpoint.rootHash
        else {
            throw AuditLogError(.storage, "the stored checkpoint of size \(stored.size) carries no frontier matching its root")
        }
        return (checkpoint, frontier, payload)
    }

    /// Signs a checkpoint over everything in the journal when one is due (or `force`), and
    /// returns its size; nil when none was due or the newest already covers the journal.
    /// Without a signing key (its KMS down) nothing is signed: the entries not yet covered are
    /// counted in `laforge_audit_uncovered_entries` and, with `receiptRequired`, the caller
    /// gets `.keyUnavailable` (it asked for a signed receipt).
    @discardableResult
    func signIfDue(_ journal: Journal, force: Bool, receiptRequired: Bool = false) throws(AuditLogError) -> UInt64? {
        guard let signer = availableSigner() else {
            let uncovered = try? journal.withExclusiveLock { view throws -> UInt64 in view.size - min(view.size, view.lastCheckpoint()?.size ?? 0) }
            if let uncovered { metrics.gaugeSet("laforge_audit_uncovered_entries", Double(uncovered)) }
            if receiptRequired, let problem = signerProblem {
                throw AuditLogError(.keyUnavailable, "the entries are recorded but no checkpoint covers them (receipt mode): \(problem.message)")
            }
            return nil
        }
        do {
            return try journal.withExclusiveLock { view throws -> UInt64? in
                let size = view.size
                defer { metrics.gaugeSet("laforge_audit_uncovered_entries", Double(view.size - min(view.size, view.lastCheckpoint()?.size ?? 0))) }
                var frontier = MerkleFrontier()
                var lastSignedAt: Int64 = 0
                if let last = view.lastCheckpoint() {
                    if let cached = lastOpened.withLock({ $0 }), cached.stored == last {
                        frontier = cached.frontier
                        lastSignedAt = cached.signedAt
                    } else {
                        let opened = try open(last)
                        frontier = opened.1
                        lastSignedAt = opened.2.signedAtMicroseconds
                        lastOpened.withLock { $0 = (last, frontier, lastSignedAt) }
                    }
                }
                guard size > frontier.size else { return nil }
                let now = AuditTimestamp.now().microseconds
                let dueByCount = settings.everyEntries > 0 && size - frontier.size >= UInt64(settings.everyEntries)
                let dueByTime = settings.everyMilliseconds > 0 && now - lastSignedAt >= Int64(settings.everyMilliseconds) * 1000
                guard force || dueByCount || dueByTime else { return nil }
                try view.extend(&frontier, to: size)
                let checkpoint = try Checkpoint(
                    origin: origin, size: size, rootHash: frontier.root(),
                    extensions: [MerkleFrontier.checkpointExtensionPrefix + Data(frontier.serialized).base64EncodedString()])
                let note = checkpoint.signedNote(signers: [signer])
                let payload = Payload(note: note, signedAtMicroseconds: now).bytes
                try view.appendCheckpoint(size: size, payload: payload)
                lastOpened.withLock { $0 = (StoredCheckpoint(size: size, payload: payload), frontier, now) }
                return size
            }
        } catch let error as AuditLogError {
            throw error
        } catch {
            throw AuditLogError(.storage, "cannot sign a checkpoint: \(error)")
        }
    }
}
