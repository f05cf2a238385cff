import CSodium
import Foundation
import LaForgeCore
import LaForgePlugins

/// Envelope encryption of fields for the compiler and the generated runtime: each field is sealed
/// with XChaCha20-Poly1305 under a data key that a KMS made and wrapped (through a secret-backend
/// plugin), bound to its `EnvelopeContext`. Data keys are reused through a `DataKeyCache` within
/// its bounds, so sealing a million fields costs a handful of KMS calls.
///
/// Safe to use from several threads (the backend's calls go through its instance gate).
public final class EnvelopeCipher: @unchecked Sendable {
    // @unchecked: the counters are atomic-by-lock; everything else is immutable.
    public static let dataKeyCount = 32

    public let backend: SecretBackendInstance
    /// The KMS key to wrap data keys with; nil means the backend's configured default.
    public let keyID: String?
    public let cache: DataKeyCache
    private let counters = NSLock()
    private var calls = 0

    public init(backend: SecretBackendInstance, keyID: String? = nil, cache: DataKeyCache = DataKeyCache()) throws(EnvelopeError) {
        guard backend.supportsEncryption else {
            throw EnvelopeError(.unsupported, "secret backend \(backend.name) offers no key operations (encrypt/decrypt)")
        }
        guard sodium_init() >= 0 else { throw EnvelopeError(.unsupported, "libsodium failed to initialize") }
        self.backend = backend
        self.keyID = keyID
        self.cache = cache
    }

    /// KMS calls made so far (data keys generated or unwrapped).
    public var kmsCalls: Int { counters.withLock { calls } }

    public func seal(_ plaintext: [UInt8], context: EnvelopeContext) throws(EnvelopeError) -> [UInt8] {
        let result = plaintext.withUnsafeBytes { bytes in Result { () throws(EnvelopeError) in try seal(bytes, context: context) } }
        return try result.get()
    }

    public func seal(_ plaintext: SecretValue, context: EnvelopeContext) throws(EnvelopeError) -> [UInt8] {
        let result = plaintext.withUnsafeBytes { bytes in Result { () throws(EnvelopeError) in try seal(bytes, context: context) } }
        return try result.get()
    }

    public func seal(_ plaintext: UnsafeRawBufferPointer, context: EnvelopeContext) throws(EnvelopeError) -> [UInt8] {
        let cacheKey = DataKeyCache.Key(
            backend: backend.name, keyID: keyID ?? "", contextDigest: context.keyContextDigest, wrappedDigest: nil)
        let dataKey: DataKeyCache.DataKey
        if let cached = cache.keyForSealing(cacheKey, plaintextBytes: plaintext.count) {
            dataKey = cached
        } else {
            dataKey = try generateDataKey(context)
            cache.store(dataKey, for: cacheKey, firstUseBytes: plaintext.count)
            // The opening side may reuse it too (a service often reads what it just wrote).
            cache.store(dataKey, for: openingKey(dataKey.wrapped, context))
        }
        // One allocation: header, nonce, ciphertext and tag written in place. The header is the
        // associated data; it holds the digest of the canonical field context, so the tag covers
        // the context as well.
        var out = try EnvelopeCiphertext.header(keyID: keyID ?? "", wrappedKey: dataKey.wrapped, contextDigest: context.fieldContextDigest,
                                                reserving: EnvelopeCiphertext.nonceCount + plaintext.count + EnvelopeCiphertext.tagCount)
        let headerCount = out.count
        out.append(contentsOf: repeatElement(0, count: EnvelopeCiphertext.nonceCount + plaintext.count + EnvelopeCiphertext.tagCount))
        out.withUnsafeMutableBufferPointer { buffer in
            let header = buffer.baseAddress!
            let nonce = header + headerCount
            randombytes_buf(nonce, EnvelopeCiphertext.nonceCount)
            var sealedCount: UInt64 = 0
            dataKey.plaintext.withUnsafeBytes { key in
                _ = crypto_aead_xchacha20poly1305_ietf_encrypt(
                    nonce + EnvelopeCiphertext.nonceCount, &sealedCount,
                    plaintext.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(plaintext.count),
                    header, UInt64(headerCount), nil, nonce, key.baseAddress!.assumingMemoryBound(to: UInt8.self))
            }
        }
        return out
    }

    public func open(_ ciphertext: [UInt8], context: EnvelopeContext) throws(EnvelopeError) -> SecretValue {
        let (envelope, headerCount) = try EnvelopeCiphertext.decode(ciphertext)
        guard envelope.contextDigest == context.fieldContextDigest else {
            throw EnvelopeError(
                .wrongContext,
                "the field was sealed for another context than tenant \(context.tenant), field \(context.fieldPath)")
        }
        let keyID = envelope.keyID.isEmpty ? nil : envelope.keyID
        let cacheKey = openingKey(envelope.wrappedKey, context, keyID: envelope.keyID)
        let dataKey: DataKeyCache.DataKey
        if let cached = cache.keyForOpening(cacheKey) {
            dataKey = cached
        } else {
            dataKey = DataKeyCache.DataKey(plaintext: try unwrap(envelope.wrappedKey, keyID: keyID, context: context), wrapped: envelope.wrappedKey)
            cache.store(dataKey, for: cacheKey)
        }
        guard dataKey.plaintext.count == Self.dataKeyCount else {
            throw EnvelopeError(.tampered, "the unwrapped data key has \(dataKey.plaintext.count) bytes, not \(Self.dataKeyCount)")
        }
        let additional = Array(ciphertext[..<headerCount])
        // XChaCha20-Poly1305 opens to exactly sealed - tag bytes: decrypted straight into the
        // locked SecretValue (zeroed on release, also when the tag does not verify).
        var result: Int32 = -1
        let plaintext = SecretValue(count: envelope.sealed.count - EnvelopeCiphertext.tagCount) { output in
            var openedCount: UInt64 = 0
            result = dataKey.plaintext.withUnsafeBytes { key in
                additional.withUnsafeBufferPointer { ad in
                    envelope.sealed.withUnsafeBufferPointer { sealed in
                        envelope.nonce.withUnsafeBufferPointer { nonce in
                            crypto_aead_xchacha20poly1305_ietf_decrypt(
                                output.baseAddress?.assumingMemoryBound(to: UInt8.self), &openedCount, nil,
                                sealed.baseAddress!, UInt64(sealed.count), ad.baseAddress, UInt64(ad.count), nonce.baseAddress!,
                                key.baseAddress!.assumingMemoryBound(to: UInt8.self))
                        }
                    }
                }
            }
        }
        guard result == 0 else {
            throw EnvelopeError(.tampered, "the sealed field does not verify (altered ciphertext or header)")
        }
        return plaintext
    }

    // MARK: KMS

    private func openingKey(_ wrapped: [UInt8], _ context: EnvelopeContext, keyID: String? = nil) -> DataKeyCache.Key {
        DataKeyCache.Key(
            backend: backend.name, keyID: keyID ?? self.keyID ?? "", contextDigest: context.keyContextDigest,
            wrappedDigest: SHA256.hash(wrapped))
    }

    private func countCall() { counters.withLock { calls += 1 } }

    private func generateDataKey(_ context: EnvelopeContext) throws(EnvelopeError) -> DataKeyCache.DataKey {
        countCall()
        do {
            if let generated = try backend.generateDataKey(keyID: keyID, length: Self.dataKeyCount, context: context.keyContext) {
                return DataKeyCache.DataKey(plaintext: generated.plaintext, wrapped: generated.wrapped)
            }
            // The backend leaves key generation to the host: make it here and have the KMS wrap it.
            let fresh = SecretValue.random(count: Self.dataKeyCount)
            let wrapped = try backend.encrypt(keyID: keyID, plaintext: fresh, context: context.keyContext)
            return DataKeyCache.DataKey(plaintext: fresh, wrapped: wrapped)
        } catch {
            throw Self.backendError(error, "generating a data key", backend: backend.name, tenant: context.tenant)
        }
    }

    private func unwrap(_ wrapped: [UInt8], keyID: String?, context: EnvelopeContext) throws(EnvelopeError) -> SecretValue {
        countCall()
        do {
            return try backend.decrypt(keyID: keyID, ciphertext: wrapped, context: context.keyContext)
        } catch {
            throw Self.backendError(error, "unwrapping the data key", backend: backend.name, tenant: context.tenant)
        }
    }

    static func backendError(_ error: PluginCallError, _ doing: String, backend: String, tenant: String) -> EnvelopeError {
        let status: PluginStatus
        switch error.kind {
        case .failed(let failed): status = failed
        case .protocolViolation, .closed: status = .internalError
        }
        return EnvelopeError(.backend(status), "\(doing) for tenant \(tenant) through \(backend): \(error.description)")
    }
}
