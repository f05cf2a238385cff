import Foundation
import LaForgeCore
import LaForgeJournal
import LaForgePlugins

/// Signs C2SP checkpoints over the journal: every N entries, every T ms, at clean shutdown, or
/// on demand (receipt mode). Each new checkpoint extends the signed frontier of the previous
/// one with the leaves appended since, under the journal's exclusive lock, so it is consistent
/// with every earlier checkpoint by construction; the previous frontier is checked against the
/// previous signed root before it is trusted.
final class Checkpointer: @unchecked Sendable {
    // @unchecked: immutable but for `lastOpened` (locked); the journal lock serializes signing
    // across threads and processes.
    let signer: Ed25519SigningKey
    let verifiers: [Ed25519VerifierKey]
    let origin: String
    let settings: CheckpointSettings
    /// The newest checkpoint this instance verified or signed, with its frontier: when the
    /// stored bytes are still exactly these, it need not be parsed and verified again.
    private let lastOpened = LockedValue<(stored: StoredCheckpoint, frontier: MerkleFrontier, signedAt: Int64)?>(nil)

    init(signer: Ed25519SigningKey, verifiers: [Ed25519VerifierKey], origin: String, settings: CheckpointSettings) {
        self.signer = signer
        self.verifiers = verifiers
        self.origin = origin
        self.settings = settings
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
    @discardableResult
    func signIfDue(_ journal: Journal, force: Bool) throws(AuditLogError) -> UInt64? {
        do {
            return try journal.withExclusiveLock { view throws -> UInt64? in
                let size = view.size
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
