import LaForgeCore

/// What a sealed field is bound to: the tenant, the field's path, and any further pairs the caller
/// wants bound (`"table": "users"`). Opening with any other context fails.
///
/// The data key is bound to the tenant and the extra pairs (the *key context*, sent to the KMS as
/// the encryption context / AAD), so every field of a tenant shares cached data keys and no data
/// key is ever shared across tenants. The field path is bound only by the field's own AEAD tag.
public struct EnvelopeContext: Sendable, Hashable {
    public let tenant: String
    public let fieldPath: String
    public let extra: [String: String]
    /// RFC 8785 bytes of `{"tenant":…, …extra}`: what the KMS sees.
    public let keyContext: [UInt8]
    /// RFC 8785 bytes of `{"field":…, "tenant":…, …extra}`: what each field's AEAD tag covers.
    public let fieldContext: [UInt8]
    /// SHA-256 of each, computed once: the cache key and the envelope's context digest.
    public let keyContextDigest: [UInt8]
    public let fieldContextDigest: [UInt8]

    public init(tenant: String, fieldPath: String, extra: [String: String] = [:]) throws(EnvelopeError) {
        guard !tenant.isEmpty else { throw EnvelopeError(.invalidContext, "the tenant is empty: every sealed field belongs to a tenant") }
        guard !fieldPath.isEmpty else { throw EnvelopeError(.invalidContext, "the field path is empty") }
        if let reserved = extra.keys.first(where: { $0 == "tenant" || $0 == "field" }) {
            throw EnvelopeError(.invalidContext, "context key \"\(reserved)\" is reserved (give it as tenant/field path)")
        }
        self.tenant = tenant
        self.fieldPath = fieldPath
        self.extra = extra
        var keyMembers = extra.mapValues { JSONValue.string($0) }
        keyMembers["tenant"] = .string(tenant)
        keyContext = JSONCanonicalizer.canonicalize(.object(keyMembers))
        keyMembers["field"] = .string(fieldPath)
        fieldContext = JSONCanonicalizer.canonicalize(.object(keyMembers))
        keyContextDigest = SHA256.hash(keyContext)
        fieldContextDigest = SHA256.hash(fieldContext)
    }
}
