import LaForgeCore

/// The `audit:` section. Each setting group decodes in its own function so new groups are added
/// without touching the others. docs/CONFIG.md describes every key.
public struct AuditConfig: Sendable {
    /// Audit sink plugin instances, in file order; empty when `audit.sinks` is absent (the journal
    /// alone still records every event).
    public var sinks: [PluginInstanceConfig]
    /// Names the chain in every entry and in checkpoints' origin line.
    public var chainID: String
    public var journal: JournalSettings
    public var checkpoints: CheckpointSettings
    public var delivery: DeliverySettings
    public var pii: PIISettings

    public init(
        sinks: [PluginInstanceConfig] = [], chainID: String = "default", journal: JournalSettings = .init(),
        checkpoints: CheckpointSettings = .init(), delivery: DeliverySettings = .init(), pii: PIISettings = .init()
    ) {
        self.sinks = sinks
        self.chainID = chainID
        self.journal = journal
        self.checkpoints = checkpoints
        self.delivery = delivery
        self.pii = pii
    }

    static let keys = ["sinks", "chain_id", "journal", "checkpoints", "delivery", "pii"]

    /// `value` is nil when the section is absent or empty.
    static func decode(_ value: ConfigValue?) throws(ConfigError) -> AuditConfig {
        guard let value else { return AuditConfig() }
        let section = try value.mapping()
        try section.rejectUnknownKeys(keys)
        var audit = AuditConfig()
        if let sinks = section.optional("sinks") {
            audit.sinks = try LaForgeConfig.decodePluginInstances(sinks, role: .auditSink)
        }
        if let chainID = section.optional("chain_id") {
            let text = try chainID.nonEmptyString()
            guard PluginInstanceConfig.isValidName(text) else {
                throw ConfigError(.invalidValue, at: chainID.mark, path: chainID.path, "must match [a-z0-9][a-z0-9_-]* (at most 64 characters)")
            }
            audit.chainID = text
        }
        audit.journal = try JournalSettings.decode(section.optional("journal"))
        audit.checkpoints = try CheckpointSettings.decode(section.optional("checkpoints"))
        audit.delivery = try DeliverySettings.decode(section.optional("delivery"))
        audit.pii = try PIISettings.decode(section.optional("pii"))
        return audit
    }
}

/// `audit.journal`: how events are made durable before emit returns.
public struct JournalSettings: Sendable {
    public enum Fsync: String, Sendable, CaseIterable { case always, group, never }
    /// `group` (default): many events, one fdatasync. `always`: one per emit call. `never`: the
    /// OS decides (an acknowledged event can be lost in a power failure).
    public var fsync: Fsync = .group
    /// When the journal cannot persist (disk full, I/O error) emit fails (true, default) or
    /// logs, counts the loss in `laforge_audit_dropped_total` and returns (false).
    public var failClosed = true
    public var segmentBytes = 64 << 20

    public init() {}

    static func decode(_ value: ConfigValue?) throws(ConfigError) -> JournalSettings {
        var settings = JournalSettings()
        guard let value else { return settings }
        let section = try value.mapping()
        try section.rejectUnknownKeys(["fsync", "fail_closed", "segment_bytes"])
        if let fsync = section.optional("fsync") { settings.fsync = try fsync.oneOf(Fsync.self) }
        if let failClosed = section.optional("fail_closed") { settings.failClosed = try failClosed.bool() }
        if let bytes = section.optional("segment_bytes") { settings.segmentBytes = try bytes.int(in: 1 << 16...1 << 40) }
        return settings
    }
}

/// `audit.checkpoints`: signed tree heads over the chain.
public struct CheckpointSettings: Sendable {
    /// The checkpoints' origin line; default `laforge/<chain_id>`.
    public var origin: String?
    /// Sign after this many new entries (0: not by count). Each checkpoint is a sync of its own:
    /// at 1000, a busy log would sync twice per group commit; `everyMilliseconds` bounds how
    /// long entries wait for one on a quiet log.
    public var everyEntries = 10_000
    /// Sign when the newest checkpoint is older than this and entries were added (0: not by time).
    public var everyMilliseconds = 1000
    /// The signing key file (`laforge keys generate`); default `<state_dir>/keys/checkpoint`,
    /// generated on first use in development mode.
    public var keyFile: String?
    /// Verifier keys (`NAME+ID+BASE64`) of earlier signing keys, so checkpoints they signed still
    /// verify after a rotation.
    public var verifierKeys: [String] = []
    /// Receipt mode: emit returns only once a signed checkpoint covers the event.
    public var receipts = false
    /// The secret backend whose KMS wraps the signing key (`key_file` then holds the wrapped form,
    /// `laforge keys wrap`); nil: the key file holds the plain key.
    public var keyWrappedBy: String?
    /// The KMS key that wraps it; nil: the backend's configured key_id.
    public var keyWrappingKey: String?

    public init() {}

    static func decode(_ value: ConfigValue?) throws(ConfigError) -> CheckpointSettings {
        var settings = CheckpointSettings()
        guard let value else { return settings }
        let section = try value.mapping()
        try section.rejectUnknownKeys([
            "origin", "every_entries", "every_ms", "key_file", "verifier_keys", "receipts", "key_wrapped_by", "key_wrapping_key",
        ])
        if let origin = section.optional("origin") { settings.origin = try origin.nonEmptyString() }
        if let entries = section.optional("every_entries") { settings.everyEntries = try entries.int(in: 0...100_000_000) }
        if let ms = section.optional("every_ms") { settings.everyMilliseconds = try ms.int(in: 0...86_400_000) }
        if let keyFile = section.optional("key_file") { settings.keyFile = try keyFile.nonEmptyString() }
        if let keys = section.optional("verifier_keys") {
            settings.verifierKeys = try keys.sequence().map { key throws(ConfigError) in
                let text = try key.nonEmptyString()
                do throws(KeyFormatError) { _ = try Ed25519VerifierKey(parsing: text) } catch {
                    throw ConfigError(.invalidValue, at: key.mark, path: key.path, error.message)
                }
                return text
            }
        }
        if let receipts = section.optional("receipts") { settings.receipts = try receipts.bool() }
        if let backend = section.optional("key_wrapped_by") { settings.keyWrappedBy = try backend.nonEmptyString() }
        if let key = section.optional("key_wrapping_key") { settings.keyWrappingKey = try key.nonEmptyString() }
        return settings
    }
}

/// `audit.delivery`: how the journal is fed to every sink.
public struct DeliverySettings: Sendable {
    public var batchEntries = 2000
    public var batchBytes = 4 << 20
    public var lingerMilliseconds = 50
    /// How long following workers hold back while a bulk ingest (`audit emit --stdin`) has a
    /// backlog, so recording keeps the disk and the cores (0: never).
    public var ingestDeferMilliseconds = 1000
    /// Full-jitter exponential backoff: sleep random(0, min(cap, base × 2^attempt)).
    public var retryBaseMilliseconds = 100
    public var retryCapMilliseconds = 30_000
    /// 0: retry forever (the default for audit: nothing is dropped because a SIEM was down).
    public var maxAttempts = 0
    /// `laforge audit emit` delivers for at most this long before exiting.
    public var flushTimeoutMilliseconds = 5_000

    public init() {}

    static func decode(_ value: ConfigValue?) throws(ConfigError) -> DeliverySettings {
        var settings = DeliverySettings()
        guard let value else { return settings }
        let section = try value.mapping()
        try section.rejectUnknownKeys([
            "batch_entries", "batch_bytes", "linger_ms", "ingest_defer_ms", "retry_base_ms", "retry_cap_ms", "max_attempts",
            "flush_timeout_ms",
        ])
        if let v = section.optional("batch_entries") { settings.batchEntries = try v.int(in: 1...1_000_000) }
        if let v = section.optional("batch_bytes") { settings.batchBytes = try v.int(in: 1024...1 << 30) }
        if let v = section.optional("linger_ms") { settings.lingerMilliseconds = try v.int(in: 0...60_000) }
        if let v = section.optional("ingest_defer_ms") { settings.ingestDeferMilliseconds = try v.int(in: 0...60_000) }
        if let v = section.optional("retry_base_ms") { settings.retryBaseMilliseconds = try v.int(in: 1...3_600_000) }
        if let v = section.optional("retry_cap_ms") { settings.retryCapMilliseconds = try v.int(in: 1...86_400_000) }
        if let v = section.optional("max_attempts") { settings.maxAttempts = try v.int(in: 0...1_000_000) }
        if let v = section.optional("flush_timeout_ms") { settings.flushTimeoutMilliseconds = try v.int(in: 0...3_600_000) }
        return settings
    }
}

/// `audit.pii`: data minimization applied to every event before it is chained.
public struct PIISettings: Sendable {
    /// Field paths (`actor.claims.email`, `data.customer.ssn`) removed from events.
    public var drop: [String] = []
    /// Field paths replaced by a keyed HMAC-SHA256 (searchable with `laforge audit hash-value`).
    public var hash: [String] = []
    /// The HMAC key file (32+ random bytes); default `<state_dir>/keys/pii-hmac`, generated on
    /// first use in development mode.
    public var keyFile: String?
    /// Recorded in each entry whose fields were hashed, so keys can rotate.
    public var keyID = "k1"

    public init() {}

    static func decode(_ value: ConfigValue?) throws(ConfigError) -> PIISettings {
        var settings = PIISettings()
        guard let value else { return settings }
        let section = try value.mapping()
        try section.rejectUnknownKeys(["drop", "hash", "key_file", "key_id"])
        for (key, isDrop) in [("drop", true), ("hash", false)] {
            guard let list = section.optional(key) else { continue }
            let paths = try list.sequence().map { item throws(ConfigError) in
                let path = try item.nonEmptyString()
                guard AuditFieldPath(path) != nil else {
                    throw ConfigError(
                        .invalidValue, at: item.mark, path: item.path,
                        "not a field path: use dotted names below actor, target, tenant, request_id or data (e.g. data.customer.email)")
                }
                return path
            }
            if isDrop { settings.drop = paths } else { settings.hash = paths }
        }
        if let keyFile = section.optional("key_file") { settings.keyFile = try keyFile.nonEmptyString() }
        if let keyID = section.optional("key_id") { settings.keyID = try keyID.nonEmptyString() }
        return settings
    }
}

extension ConfigValue {
    func int(in range: ClosedRange<Int>) throws(ConfigError) -> Int {
        let value = try int()
        guard range.contains(value) else {
            throw ConfigError(.invalidValue, at: mark, path: path, "must be between \(range.lowerBound) and \(range.upperBound), got \(value)")
        }
        return value
    }
}
