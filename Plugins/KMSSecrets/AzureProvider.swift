import CSodium
import HTTPClient

/// Azure Key Vault: RSA-OAEP-256 wrapkey/unwrapkey for key operations, secrets for get_secret.
/// RSA-OAEP has no associated data, so the context is bound by wrapping
/// `plaintext ‖ SHA-256(canonical context)` and checking the digest after unwrapping: a
/// ciphertext given with another context is refused. Plaintexts are limited to what one
/// RSA-OAEP-256 block carries (a 2048-bit key: 190 bytes, minus the 32-byte digest).
final class AzureProvider: KMSProvider {
    let vault: AzureKeyVaultClient

    init(config: KMSSecretsConfig, environment: Environment, transport: RetryingTransport) throws(KMSError) {
        guard let vaultURL = config.vaultURL, vaultURL.hasPrefix("https://") || vaultURL.hasPrefix("http://127.0.0.1") else {
            throw KMSError.config("vault_url must be an https:// URL")
        }
        vault = AzureKeyVaultClient(
            vaultURL: vaultURL, apiVersion: config.apiVersion,
            tokens: AzureTokenSource(config: config, environment: environment, http: transport.client), transport: transport)
    }

    func getSecret(_ name: String) throws(KMSError) -> SecretBytes { try vault.getSecret(name) }

    func encrypt(keyID: String, plaintext: UnsafeRawBufferPointer, context: EncryptionContext) throws(KMSError) -> [UInt8] {
        guard plaintext.count <= 158 else {
            throw KMSError(.invalidArgument, "azure keyvault wrapkey: \(plaintext.count) bytes is more than RSA-OAEP-256 carries with the context digest (158)")
        }
        var value = Array(plaintext) + Self.digest(context.canonical)
        defer { sodium_wipe(&value) }
        let (kid, wrapped) = try vault.wrapKey(keyURL: try vault.keyURL(keyID), value: value)
        return ProviderCiphertext(keyName: kid, payload: wrapped).encoded()
    }

    func decrypt(keyID: String?, ciphertext: [UInt8], context: EncryptionContext) throws(KMSError) -> SecretBytes {
        let envelope = try ProviderCiphertext(decoding: ciphertext, provider: "azure keyvault unwrapkey")
        if let keyID {
            let expected = try vault.keyURL(keyID)
            // A key name without version matches every version of that key.
            guard envelope.keyName == expected || envelope.keyName.hasPrefix(expected + "/") else {
                throw KMSError(.invalidCiphertext, "azure keyvault unwrapkey: the ciphertext was made with \(envelope.keyName), not \(keyID)")
            }
        }
        var value = try vault.unwrapKey(kid: envelope.keyName, wrapped: envelope.payload)
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

    private static func digest(_ bytes: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        _ = bytes.withUnsafeBufferPointer { crypto_hash_sha256(&out, $0.baseAddress, UInt64($0.count)) }
        return out
    }
}
