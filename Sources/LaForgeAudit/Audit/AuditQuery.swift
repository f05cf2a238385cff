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

/// Reads the journal for people: the last entries, filtered scans, inclusion proofs. It reads
/// the files only (`JournalFileReader`: `O_RDONLY`, nothing created, repaired or locked out),
/// so `audit tail`, `audit query` and `audit prove` never change a store they are shown, and
/// answer while a writer holds the journal. Each frame's stored hash, seq and prev_hash are
/// checked as it is read: a changed frame stops the read with an error naming its seq (run
/// `laforge verify chain` for the whole verdict); a torn tail ends it quietly, as a crash leaves.
public struct AuditReader: Sendable {
    public let directory: String
    public let verifierKeys: [Ed25519VerifierKey]
    public let origin: String

    public init(directory: String, verifierKeys: [Ed25519VerifierKey], origin: String) {
        self.directory = directory
        self.verifierKeys = verifierKeys
        self.origin = origin
    }

    /// The journal of a configuration, for reading, with the keys its checkpoints verify under
    /// (never generating any).
    public static func open(config: LaForgeConfig, extraKeys: [Ed25519VerifierKey] = []) throws(AuditLogError) -> AuditReader {
        let keys = try AuditKeys(config: config).existingVerifierKeys() + extraKeys
        return AuditReader(
            directory: (config.stateDir as NSString).appendingPathComponent("journal"), verifierKeys: keys,
            origin: config.audit.checkpoints.origin ?? AuditLog.defaultOrigin(chainID: config.audit.chainID))
    }

    /// Walks the entries (and the checkpoints, when `withCheckpoints`) in chain order; `visit`
    /// returns false to stop. No journal yet reads as empty.
    private func walk(withCheckpoints: Bool = false, from: UInt64 = 0, _ visit: (JournalFileReader.Item) -> Bool) throws(AuditLogError) {
        let reader = JournalFileReader(directory: directory)
        let extent: JournalFileReader.Extent
        do { extent = try reader.extent() } catch {
            if case .noJournal = error { return }
            throw AuditLogError(.storage, error.description)
        }
        let checkpoints = withCheckpoints ? reader.checkpoints(upTo: extent.checkpointLogSize).frames : []
        var failure: AuditLogError?
        reader.walk(extent: extent, checkpoints: checkpoints, from: from) { item in
            if case .problem(let problem) = item {
                if problem.kind != .tornTail {
                    failure = AuditLogError(
                        .corrupt, "the journal is damaged at \(problem.seq.map { "seq \($0), " } ?? "")\(problem): run `laforge verify chain`")
                }
                return false
            }
            return visit(item)
        }
        if let failure { throw failure }
    }

    /// Entries with seq ≥ `from` whose event matches, in order, at most `limit`.
    public func scan(from: UInt64 = 0, matching query: AuditQuery = AuditQuery(), limit: Int = .max) throws(AuditLogError) -> [JournalEntry] {
        var found: [JournalEntry] = []
        try walk(from: from) { item in
            guard case .entry(let seq, let payload, _) = item, seq >= from else { return true }
            let bytes = [UInt8](payload)
            if let parsed = try? AuditEntry.parse(bytes), query.matches(parsed.event) {
                found.append(Self.entry(seq: seq, bytes))
            }
            return found.count < limit
        }
        return found
    }

    private static func entry(seq: UInt64, _ payload: [UInt8]) -> JournalEntry {
        let link = AuditEntry.link(payload)
        return JournalEntry(seq: seq, hash: SHA256.leafHash(payload), prevHash: link?.prevHash ?? [], payload: payload)
    }

    /// How many entries the journal holds (from the frame headers; no hashing).
    public func size() throws(AuditLogError) -> UInt64 {
        let reader = JournalFileReader(directory: directory)
        do { return reader.entryCount(extent: try reader.extent()) } catch {
            if case .noJournal = error { return 0 }
            throw AuditLogError(.storage, error.description)
        }
    }

    /// The last `count` entries (the segments before them are not read).
    public func tail(_ count: Int) throws(AuditLogError) -> [JournalEntry] {
        var kept: [JournalEntry] = []
        guard count > 0 else { return [] }
        let size = try size()
        try walk(from: size - min(size, UInt64(count))) { item in
            guard case .entry(let seq, let payload, _) = item else { return true }
            if kept.count == count { kept.removeFirst() }
            kept.append(Self.entry(seq: seq, [UInt8](payload)))
            return true
        }
        return kept
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
        var leaves: [[UInt8]] = []
        var newest: [UInt8]?
        var newestSize: UInt64 = 0
        try walk(withCheckpoints: true) { item in
            switch item {
            case .entry(_, _, let leafHash): leaves.append(leafHash.bytes)  // checked against the payload by the reader
            case .checkpoint(let size, let payload, _):
                newest = payload
                newestSize = size
            case .problem: break
            }
            return true
        }
        guard seq < UInt64(leaves.count) else {
            throw AuditLogError(.notFound, "no entry \(seq): the journal holds \(leaves.count) entries")
        }
        guard let stored = newest else {
            throw AuditLogError(.storage, "no checkpoint yet: run `laforge audit emit` or wait for the next checkpoint")
        }
        guard seq < newestSize else {
            // Transient, not the caller's mistake: the next checkpoint covers it (exit 2, retry).
            throw AuditLogError(.storage, "entry \(seq) is not covered by the newest checkpoint (size \(newestSize)) yet; retry after the next checkpoint")
        }
        guard let value = try? JSONParser.parse(stored), case .string(let note)? = value["note"] else {
            throw AuditLogError(.storage, "the newest checkpoint is unreadable")
        }
        guard newestSize <= UInt64(leaves.count) else {
            throw AuditLogError(.corrupt, "the newest checkpoint covers \(newestSize) entries, the journal holds \(leaves.count): run `laforge verify chain`")
        }
        let checkpoint: Checkpoint
        do { checkpoint = try Checkpoint.open(note: note, verifiers: verifierKeys, expectedOrigin: origin).0 } catch {
            throw AuditLogError(.storage, "the newest checkpoint does not verify: \(error)")
        }
        let proof: [[UInt8]]
        do { proof = try MerkleTree.inclusionProof(index: seq, treeSize: newestSize, leaves: leaves) } catch {
            throw AuditLogError(.storage, "\(error)")
        }
        guard MerkleTree.verifyInclusion(
            leafHash: leaves[Int(seq)], index: seq, treeSize: newestSize, proof: proof, root: checkpoint.rootHash)
        else {
            throw AuditLogError(.storage, "the journal does not match its newest checkpoint: run `laforge verify chain`")
        }
        return InclusionProof(
            seq: seq, leafHash: leaves[Int(seq)], treeSize: newestSize, rootHash: checkpoint.rootHash, proof: proof,
            checkpointNote: note)
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
