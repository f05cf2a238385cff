import Foundation
import LaForgeCore
import LaForgeJournal
import LaForgePlugins

/// Filters for `laforge audit query` (and `tail`), applied to an entry's event.
public struct AuditQuery: Sendable {
    public var since: AuditTimestamp?
    public var until: AuditTimestamp?
    public var actor: String?
    public var tenant: String?
    /// Exact (`schema.change`) or a prefix pattern (`rbac.*`).
    public var action: String?

    public init(since: AuditTimestamp? = nil, until: AuditTimestamp? = nil, actor: String? = nil, tenant: String? = nil, action: String? = nil) {
        self.since = since
        self.until = until
        self.actor = actor
        self.tenant = tenant
        self.action = action
    }

    public func matches(_ event: JSONValue) -> Bool {
        if let actor, event["actor"]?["user"]?.stringValue != actor { return false }
        if let tenant, event["tenant"]?.stringValue != tenant { return false }
        if let action {
            guard let value = event["action"]?.stringValue else { return false }
            if action.hasSuffix(".*") {
                if !value.hasPrefix(String(action.dropLast())) { return false }
            } else if value != action {
                return false
            }
        }
        if since != nil || until != nil {
            guard let text = event["timestamp"]?.stringValue, let time = AuditTimestamp(rfc3339: text) else { return false }
            if let since, time < since { return false }
            if let until, time >= until { return false }
        }
        return true
    }
}

/// Reads the journal for people: the last entries, filtered scans, inclusion proofs.
public struct AuditReader: Sendable {
    public let journal: Journal
    public let verifierKeys: [Ed25519VerifierKey]
    public let origin: String

    public init(journal: Journal, verifierKeys: [Ed25519VerifierKey], origin: String) {
        self.journal = journal
        self.verifierKeys = verifierKeys
        self.origin = origin
    }

    /// Opens the journal of a configuration for reading, with the keys its checkpoints verify
    /// under (never generating any).
    public static func open(config: LaForgeConfig, extraKeys: [Ed25519VerifierKey] = []) throws(AuditLogError) -> AuditReader {
        let journal: Journal
        do {
            journal = try Journal.open(
                JournalOptions(directory: (config.stateDir as NSString).appendingPathComponent("journal")),
                linker: { _, _, _, _ in })
        } catch {
            throw AuditLogError(error.kind == .corrupt ? .corrupt : .storage, "cannot open the journal: \(error)")
        }
        let keys = try AuditKeys(config: config).existingVerifierKeys() + extraKeys
        return AuditReader(
            journal: journal, verifierKeys: keys,
            origin: config.audit.checkpoints.origin ?? AuditLog.defaultOrigin(chainID: config.audit.chainID))
    }

    /// Entries with seq ≥ `from` whose event matches, in order, at most `limit`.
    public func scan(from: UInt64 = 0, matching query: AuditQuery = AuditQuery(), limit: Int = .max) throws(AuditLogError) -> [JournalEntry] {
        var found: [JournalEntry] = []
        var next = from
        do {
            while found.count < limit {
                let entries = try journal.entries(from: next, maxCount: 4096, maxBytes: 16 << 20)
                guard let last = entries.last else { break }
                for entry in entries where found.count < limit {
                    guard let parsed = try? AuditEntry.parse(entry.payload) else { continue }
                    if query.matches(parsed.event) { found.append(entry) }
                }
                next = last.seq + 1
            }
        } catch {
            throw AuditLogError(.storage, "cannot read the journal: \(error)")
        }
        return found
    }

    /// The last `count` entries.
    public func tail(_ count: Int) throws(AuditLogError) -> [JournalEntry] {
        let size: UInt64
        do { size = try journal.currentSize() } catch { throw AuditLogError(.storage, "\(error)") }
        return try scan(from: size > UInt64(count) ? size - UInt64(count) : 0)
    }

    /// An RFC 6962 inclusion proof of entry `seq` against the newest checkpoint.
    public struct InclusionProof: Sendable {
        public var seq: UInt64
        public var leafHash: [UInt8]
        public var treeSize: UInt64
        public var rootHash: [UInt8]
        public var proof: [[UInt8]]
        public var checkpointNote: String

        public func jsonValue() -> JSONValue {
            .object([
                "seq": .number(Double(seq)), "leaf_hash": .string(leafHash.hexString), "tree_size": .number(Double(treeSize)),
                "root_hash": .string(rootHash.hexString), "proof": .array(proof.map { .string($0.hexString) }),
                "checkpoint": .string(checkpointNote),
            ])
        }
    }

    public func prove(seq: UInt64) throws(AuditLogError) -> InclusionProof {
        do {
            guard let stored = try journal.checkpoints().last else {
                throw AuditLogError(.storage, "no checkpoint yet: run `laforge audit emit` or wait for the next checkpoint")
            }
            guard seq < stored.size else {
                throw AuditLogError(
                    .invalidEvent, "entry \(seq) is not covered by the newest checkpoint (size \(stored.size)) yet")
            }
            guard let value = try? JSONParser.parse(stored.payload), case .string(let note)? = value["note"] else {
                throw AuditLogError(.storage, "the newest checkpoint is unreadable")
            }
            let checkpoint = try Checkpoint.open(note: note, verifiers: verifierKeys, expectedOrigin: origin).0
            let leaves = try journal.leafHashes(from: 0, to: stored.size)
            let proof = try MerkleTree.inclusionProof(index: seq, treeSize: stored.size, leaves: leaves)
            guard MerkleTree.verifyInclusion(
                leafHash: leaves[Int(seq)], index: seq, treeSize: stored.size, proof: proof, root: checkpoint.rootHash)
            else {
                throw AuditLogError(.storage, "the journal does not match its newest checkpoint: run `laforge verify chain`")
            }
            return InclusionProof(
                seq: seq, leafHash: leaves[Int(seq)], treeSize: stored.size, rootHash: checkpoint.rootHash, proof: proof,
                checkpointNote: note)
        } catch let error as AuditLogError {
            throw error
        } catch {
            throw AuditLogError(.storage, "\(error)")
        }
    }
}

extension AuditReader {
    /// The checkpoint verifier keys of a configuration that exist on disk (never generated; in
    /// production only the pinned ones, see `trustedVerifierKeys`).
    public static func verifierKeys(config: LaForgeConfig) throws(AuditLogError) -> [Ed25519VerifierKey] {
        try AuditKeys(config: config).existingVerifierKeys()
    }

    /// The keys a verifier of this configuration trusts and where each comes from: the
    /// configuration's, then `commandLineKeys` (`--key PATH`). In production none is taken from
    /// next to the signing key, and an empty result is an error that says how to pin one.
    public static func trustedVerifierKeys(
        config: LaForgeConfig, commandLineKeys: [(path: String, key: Ed25519VerifierKey)]
    ) throws(AuditLogError) -> [TrustedVerifierKey] {
        var trusted = try AuditKeys(config: config).trustedVerifierKeys()
        for (path, key) in commandLineKeys where !trusted.contains(where: { $0.key == key }) {
            trusted.append(TrustedVerifierKey(key: key, source: "--key \(path)", isPinned: true))
        }
        guard !trusted.isEmpty else {
            throw AuditLogError(
                .configuration,
                config.mode == .production
                    ? "no pinned checkpoint verifier key: in mode: production the verifier never trusts the key next to the journal (whoever controls the state directory could re-sign the chain); pin it in audit.checkpoints.verifier_keys or pass --key PATH.pub"
                    : "no checkpoint verifier key: pass --key PATH.pub, or set audit.checkpoints.key_file / verifier_keys")
        }
        return trusted
    }
}
