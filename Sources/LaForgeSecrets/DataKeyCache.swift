import Foundation
import LaForgeCore

/// Data keys kept for reuse, as the AWS Encryption SDK's caching CMM does: each entry is bounded by
/// age, by the messages and bytes it has sealed, and the cache by its number of entries (least
/// recently used goes first). Entries are keyed by backend + KMS key + the digest of the key
/// context (which holds the tenant), so a data key is never shared across tenants or contexts.
/// Keys live in `SecretValue`s (locked memory, zeroed when the last user lets go); an evicted or
/// expired entry is dropped at once. Failures are never cached.
public final class DataKeyCache: @unchecked Sendable {
    // @unchecked: every field is guarded by `lock`.
    public struct Limits: Sendable {
        /// Seconds a data key may be used after the KMS made (or unwrapped) it.
        public var maxAgeSeconds: Double
        /// Fields one data key may seal.
        public var maxMessagesPerKey: Int
        /// Plaintext bytes one data key may seal.
        public var maxBytesPerKey: Int
        /// Entries kept (sealing and opening keys together).
        public var maxEntries: Int

        public init(maxAgeSeconds: Double = 300, maxMessagesPerKey: Int = 100_000, maxBytesPerKey: Int = 1 << 30, maxEntries: Int = 1000) {
            self.maxAgeSeconds = maxAgeSeconds
            self.maxMessagesPerKey = maxMessagesPerKey
            self.maxBytesPerKey = maxBytesPerKey
            self.maxEntries = maxEntries
        }

        /// No caching: every seal asks the KMS for a new data key, every open unwraps.
        public static let disabled = Limits(maxAgeSeconds: 0, maxMessagesPerKey: 0, maxBytesPerKey: 0, maxEntries: 0)
    }

    /// Where an entry belongs. `wrappedDigest` is nil for sealing keys and the SHA-256 of the
    /// wrapped key for opening keys (a ciphertext names its data key by its wrapped form).
    public struct Key: Hashable, Sendable {
        public var backend: String
        public var keyID: String
        public var contextDigest: [UInt8]
        public var wrappedDigest: [UInt8]?
    }

    public struct DataKey: @unchecked Sendable {
        public let plaintext: SecretValue
        public let wrapped: [UInt8]
    }

    private final class Entry {
        let key: DataKey
        let created: Double
        var messages = 0
        var bytes = 0
        var lastUse: UInt64

        init(key: DataKey, created: Double, lastUse: UInt64) {
            self.key = key
            self.created = created
            self.lastUse = lastUse
        }
    }

    public let limits: Limits
    private let lock = NSLock()
    private var entries: [Key: Entry] = [:]
    private var useCounter: UInt64 = 0
    private let now: @Sendable () -> Double

    public init(limits: Limits = Limits(), now: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }) {
        self.limits = limits
        self.now = now
    }

    public var count: Int { lock.withLock { entries.count } }

    /// A cached key for sealing `plaintextBytes` more bytes, counting this use against its
    /// limits; nil when there is none or it is used up (then it is dropped).
    func keyForSealing(_ key: Key, plaintextBytes: Int) -> DataKey? {
        lock.withLock {
            guard let entry = live(key) else { return nil }
            guard entry.messages + 1 <= limits.maxMessagesPerKey, entry.bytes + plaintextBytes <= limits.maxBytesPerKey else {
                entries[key] = nil
                return nil
            }
            entry.messages += 1
            entry.bytes += plaintextBytes
            return entry.key
        }
    }

    func keyForOpening(_ key: Key) -> DataKey? {
        lock.withLock { live(key)?.key }
    }

    /// Stores a key the KMS just made; `firstUseBytes` is the seal it was made for (counted).
    func store(_ dataKey: DataKey, for key: Key, firstUseBytes: Int? = nil) {
        guard limits.maxEntries > 0, limits.maxAgeSeconds > 0 else { return }
        if let firstUseBytes, limits.maxMessagesPerKey <= 1 || firstUseBytes >= limits.maxBytesPerKey { return }
        lock.withLock {
            useCounter += 1
            let entry = Entry(key: dataKey, created: now(), lastUse: useCounter)
            if let firstUseBytes {
                entry.messages = 1
                entry.bytes = firstUseBytes
            }
            entries[key] = entry
            while entries.count > limits.maxEntries, let oldest = entries.min(by: { $0.value.lastUse < $1.value.lastUse })?.key {
                entries[oldest] = nil
            }
        }
    }

    /// Drops every entry (their keys are zeroed once no seal or open still uses them).
    public func removeAll() { lock.withLock { entries.removeAll() } }

    /// The entry if it is still young enough (an expired one is dropped). Call with the lock held.
    private func live(_ key: Key) -> Entry? {
        guard let entry = entries[key] else { return nil }
        guard now() - entry.created < limits.maxAgeSeconds else {
            entries[key] = nil
            return nil
        }
        useCounter += 1
        entry.lastUse = useCounter
        return entry
    }
}
