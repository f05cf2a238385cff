/// The plugin's ciphertext envelope for GCP and Azure, whose decrypt needs to know which key made
/// a ciphertext: `0x01 ‖ u16 BE length ‖ key name (UTF-8) ‖ provider ciphertext`. For GCP the name
/// is the CryptoKey, for Azure the versioned key id (`kid`). AWS ciphertexts are KMS's own blobs
/// (they name their key themselves).
struct ProviderCiphertext {
    static let version: UInt8 = 1

    var keyName: String
    var payload: [UInt8]
    /// 1, or `EmptyPlaintext.gcpVersion` for a sealed empty plaintext.
    var version: UInt8

    func encoded() -> [UInt8] {
        let name = Array(keyName.utf8)
        return [version, UInt8(name.count >> 8), UInt8(name.count & 0xFF)] + name + payload
    }

    init(keyName: String, payload: [UInt8], version: UInt8 = ProviderCiphertext.version) {
        self.keyName = keyName
        self.payload = payload
        self.version = version
    }

    init(decoding bytes: [UInt8], provider: String, versions: Set<UInt8> = [ProviderCiphertext.version]) throws(KMSError) {
        guard bytes.count >= 3, versions.contains(bytes[0]) else {
            throw KMSError(.invalidCiphertext, "\(provider): not a KMSSecrets ciphertext (unknown format byte)")
        }
        let length = Int(bytes[1]) << 8 | Int(bytes[2])
        guard bytes.count > 3 + length, let name = String(validating: bytes[3..<3 + length], as: UTF8.self) else {
            throw KMSError(.invalidCiphertext, "\(provider): truncated KMSSecrets ciphertext")
        }
        keyName = name
        payload = Array(bytes[(3 + length)...])
        version = bytes[0]
    }
}
