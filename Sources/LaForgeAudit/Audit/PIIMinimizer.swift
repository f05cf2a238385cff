import CSodium
import LaForgeCore
import LaForgePlugins

/// Drops configured fields and replaces others with a keyed HMAC-SHA256 before an event is
/// chained, so personal data never enters the permanent record while staying searchable: the
/// same value under the same key always gives the same `hmac-sha256:<hex>` (compute it with
/// `laforge audit hash-value`). The key id goes into the event (`pii_key_id`) so keys can rotate.
public struct PIIMinimizer: Sendable {
    public let drop: [AuditFieldPath]
    public let hash: [AuditFieldPath]
    public let keyID: String
    private let key: SecretValue

    public init(drop: [AuditFieldPath], hash: [AuditFieldPath], keyID: String, key: SecretValue) {
        self.drop = drop
        self.hash = hash
        self.keyID = keyID
        self.key = key
    }

    public var isActive: Bool { !drop.isEmpty || !hash.isEmpty }

    /// `hmac-sha256:<hex>` of a value: strings by their UTF-8 bytes, anything else by its
    /// canonical JSON.
    public func hashValue(_ value: JSONValue) -> String {
        let bytes: [UInt8]
        if case .string(let text) = value { bytes = Array(text.utf8) } else { bytes = JSONCanonicalizer.canonicalize(value) }
        var state = crypto_auth_hmacsha256_state()
        var mac = [UInt8](repeating: 0, count: 32)
        key.withUnsafeBytes { keyBytes in
            _ = crypto_auth_hmacsha256_init(&state, keyBytes.baseAddress!.assumingMemoryBound(to: UInt8.self), keyBytes.count)
        }
        _ = crypto_auth_hmacsha256_update(&state, bytes, UInt64(bytes.count))
        _ = crypto_auth_hmacsha256_final(&state, &mac)
        sodium_memzero(&state, MemoryLayout<crypto_auth_hmacsha256_state>.size)
        return "hmac-sha256:" + mac.hexString
    }

    /// The event's JSON form with the configured fields dropped or hashed, and `pii_key_id`
    /// added when anything was hashed. Paths that are absent in this event are skipped.
    public func apply(to event: JSONValue) -> JSONValue {
        guard isActive, case .object(var object) = event else { return event }
        for path in drop where path.isDroppable {
            object = Self.update(object, path.components[...]) { _ in nil }
        }
        var hashedAny = false
        for path in hash {
            object = Self.update(object, path.components[...]) { value in
                hashedAny = true
                if case .array(let items) = value { return .array(items.map { .string(hashValue($0)) }) }
                return .string(hashValue(value))
            }
        }
        if hashedAny { object["pii_key_id"] = .string(keyID) }
        return .object(object)
    }

    private static func update(
        _ object: [String: JSONValue], _ path: ArraySlice<String>, _ transform: (JSONValue) -> JSONValue?
    ) -> [String: JSONValue] {
        guard let key = path.first, let value = object[key] else { return object }
        var copy = object
        if path.count == 1 {
            copy[key] = transform(value)
        } else if case .object(let child) = value {
            copy[key] = .object(update(child, path.dropFirst(), transform))
        }
        return copy
    }
}
