/// One cloud's implementation of the secret-backend operations. Called serially (the vtable is
/// SERIAL: each instance owns one HTTP client and one token/credential cache).
protocol KMSProvider: AnyObject {
    func getSecret(_ name: String) throws(KMSError) -> SecretBytes
    /// A self-describing ciphertext `decrypt` accepts (see docs/SECRETS.md, "Plugin ciphertexts").
    func encrypt(keyID: String, plaintext: UnsafeRawBufferPointer, context: EncryptionContext) throws(KMSError) -> [UInt8]
    func decrypt(keyID: String?, ciphertext: [UInt8], context: EncryptionContext) throws(KMSError) -> SecretBytes
    /// A fresh data key and its wrapped form, or nil when the provider has no such call (the
    /// plugin then makes the key with libsodium and encrypts it).
    func generateDataKey(keyID: String, length: Int, context: EncryptionContext) throws(KMSError) -> (SecretBytes, [UInt8])?
}
