import CSodium
import HTTPClient

/// Azure Key Vault: RSA-OAEP-256 wrapkey/unwrapkey for key operations, secrets for get_secret.
/// RSA-OAEP has no associated data, so the context is bound by wrapping
/// `plaintext ‖ SHA-256(canonical context)` and checking the digest after unwrapping: a
/// ciphertext given with another context is refused. A plaintext longer than one RSA-OAEP-256 block
/// carries with the digest (158 bytes for a 2048-bit key) is sealed locally with XChaCha20-Poly1305
/// under a fresh 32-byte key (context as associated data), and that key is what Key Vault wraps
/// (ciphertext version 3: `u16 BE wrapped length ‖ wrapped ‖ nonce ‖ sealed`).
final class AzureProvider: KMSProvider {
    let vault: AzureKeyVaultClient

    init(config: KMSSecretsConfig, environment: Environment, transport: RetryingTransport) throws(KMSError) {
        let policy = EndpointPolicy(host: transport.host)
        guard let configuredURL = config.vaultURL else { throw KMSError.config("vault_url is required for provider azure") }
        let vaultURL = try policy.checked(ServiceEndpoint(url: configuredURL, origin: "vault_url"))
        vault = AzureKeyVaultClient(
            vaultURL: vaultURL, apiVersion: config.apiVersion,
            tokens: try AzureTokenSource(config: config, environment: environment, http: transport.client, policy: policy),
            transport: transport)
    }

    func getSecret(_ name: String) throws(KMSError) -> SecretBytes { try vault.getSecret(name) }

    static let directLimit = 158
    static let hybridVersion: UInt8 = 3

    func encrypt(keyID: String, plaintext: UnsafeRawBufferPointer, context: EncryptionContext) throws(KMSError) -> [UInt8] {
        guard plaintext.count <= Self.directLimit else { return try encryptHybrid(keyID: keyID, plaintext: plaintext, context: context) }
        var value = Array(plaintext) + Self.digest(context.canonical)
        defer { sodium_wipe(&value) }
        let (kid, wrapped) = try vault.wrapKey(keyURL: try vault.keyURL(keyID), value: value)
        return ProviderCiphertext(keyName: kid, payload: wrapped).encoded()
    }

    func decrypt(keyID: String?, ciphertext: [UInt8], context: EncryptionContext) throws(KMSError) -> SecretBytes {
        let envelope = try ProviderCiphertext(
            decoding: ciphertext, provider: "azure keyvault unwrapkey", versions: [ProviderCiphertext.version, Self.hybridVersion])
        if let keyID {
            let expected = try vault.keyURL(keyID)
            // A key name without version matches every version of that key.
            guard envelope.keyName == expected || envelope.keyName.hasPrefix(expected + "/") else {
                throw KMSError(.invalidCiphertext, "azure keyvault unwrapkey: the ciphertext was made with \(envelope.keyName), not \(keyID)")
            }
        }
        if envelope.version == Self.hybridVersion { return try decryptHybrid(envelope, context: context) }
        return try unwrapBound(kid: envelope.keyName, wrapped: envelope.payload, context: context)
    }

    /// Unwraps `plaintext ‖ SHA-256(context)` and checks the digest.
    private func unwrapBound(kid: String, wrapped: [UInt8], context: EncryptionContext) throws(KMSError) -> SecretBytes {
        var value = try vault.unwrapKey(kid: kid, wrapped: wrapped)
        defer { sodium_wipe(&value) }
        guard value.count >= 32 else { throw KMSError(.invalidCiphertext, "azure keyvault unwrapkey: the unwrapped value is too short") }
        let digest = Self.digest(context.canonical)
        let matches = value.withUnsafeBufferPointer { unwrapped in
            digest.withUnsafeBufferPointer { sodium_memcmp(unwrapped.baseAddress! + unwrapped.count - 32, $0.baseAddress!, 32) == 0 }
        }
        guard matches else {
            throw KMSError(.invalidCiphertext, "azure keyvault unwrapkey: wrong context (the ciphertext was bound to another context)")
        }
        var plaintext = Array(value.prefix(value.count - 32))
        return SecretBytes(consuming: &plaintext)
    }

    func generateDataKey(keyID: String, length: Int, context: EncryptionContext) throws(KMSError) -> (SecretBytes, [UInt8])? { nil }

    private func encryptHybrid(keyID: String, plaintext: UnsafeRawBufferPointer, context: EncryptionContext) throws(KMSError) -> [UInt8] {
        var key = [UInt8](repeating: 0, count: 32)
        defer { sodium_wipe(&key) }
        randombytes_buf(&key, key.count)
        var value = key + Self.digest(context.canonical)
        defer { sodium_wipe(&value) }
        let (kid, wrapped) = try vault.wrapKey(keyURL: try vault.keyURL(keyID), value: value)
        var nonce = [UInt8](repeating: 0, count: 24)
        randombytes_buf(&nonce, nonce.count)
        var sealed = [UInt8](repeating: 0, count: plaintext.count + 16)
        var sealedCount: UInt64 = 0
        _ = context.canonical.withUnsafeBufferPointer { ad in
            crypto_aead_xchacha20poly1305_ietf_encrypt(
                &sealed, &sealedCount, plaintext.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(plaintext.count),
                ad.baseAddress, UInt64(ad.count), nil, nonce, key)
        }
        let payload = [UInt8(wrapped.count >> 8), UInt8(wrapped.count & 0xFF)] + wrapped + nonce + sealed
        return ProviderCiphertext(keyName: kid, payload: payload, version: Self.hybridVersion).encoded()
    }

    private func decryptHybrid(_ envelope: ProviderCiphertext, context: EncryptionContext) throws(KMSError) -> SecretBytes {
        let payload = envelope.payload
        guard payload.count >= 2 else { throw KMSError(.invalidCiphertext, "azure keyvault: truncated ciphertext") }
        let wrappedCount = Int(payload[0]) << 8 | Int(payload[1])
        guard payload.count >= 2 + wrappedCount + 24 + 16 else { throw KMSError(.invalidCiphertext, "azure keyvault: truncated ciphertext") }
        let key = try unwrapBound(kid: envelope.keyName, wrapped: Array(payload[2..<2 + wrappedCount]), context: context)
        guard key.count == 32 else { throw KMSError(.invalidCiphertext, "azure keyvault: the unwrapped key has \(key.count) bytes, not 32") }
        let nonce = Array(payload[(2 + wrappedCount)..<(2 + wrappedCount + 24)])
        let sealed = Array(payload[(2 + wrappedCount + 24)...])
        var plaintext = [UInt8](repeating: 0, count: sealed.count - 16)
        var openedCount: UInt64 = 0
        let result = context.canonical.withUnsafeBufferPointer { ad in
            crypto_aead_xchacha20poly1305_ietf_decrypt(
                &plaintext, &openedCount, nil, sealed, UInt64(sealed.count), ad.baseAddress, UInt64(ad.count), nonce,
                key.bytes.baseAddress!.assumingMemoryBound(to: UInt8.self))
        }
        guard result == 0 else {
            sodium_wipe(&plaintext)
            throw KMSError(.invalidCiphertext, "azure keyvault: the sealed data does not verify (altered, or another context)")
        }
        return SecretBytes(consuming: &plaintext)
    }

    private static func digest(_ bytes: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        _ = bytes.withUnsafeBufferPointer { crypto_hash_sha256(&out, $0.baseAddress, UInt64($0.count)) }
        return out
    }
}
