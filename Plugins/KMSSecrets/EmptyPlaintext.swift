/// AWS KMS and Cloud KMS refuse an empty plaintext (1 byte minimum), but the ABI's encrypt takes
/// any length. An empty plaintext is therefore sealed as the single byte 0x00 under the caller's
/// context plus a marker (AWS: the context pair `laforge:empty-plaintext=1`; GCP: the AAD prefixed
/// with `laforge:empty-plaintext\n`), and the blob is tagged so decrypt knows to ask with the marker
/// and to return nothing. The KMS still checks key, context and integrity; a marker-less decrypt of
/// such a blob fails like any wrong context.
enum EmptyPlaintext {
    /// Prefix of an AWS blob holding an empty plaintext. KMS ciphertext blobs start with 0x01.
    static let awsMagic: [UInt8] = Array("LFE1".utf8)
    static let awsContextKey = "laforge:empty-plaintext"
    static let gcpAADPrefix: [UInt8] = Array("laforge:empty-plaintext\n".utf8)
    /// ProviderCiphertext version byte for an empty plaintext (GCP).
    static let gcpVersion: UInt8 = 2
    /// Runs `body` with the one marker byte (typed throws do not pass through withUnsafeBytes).
    static func withSealedByte<R>(_ body: (UnsafeRawBufferPointer) throws(KMSError) -> R) throws(KMSError) -> R {
        let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: 1, alignment: 1)
        defer { storage.deallocate() }
        storage[0] = 0
        return try body(UnsafeRawBufferPointer(storage))
    }

    static func isAWSEmpty(_ blob: [UInt8]) -> Bool { blob.count > awsMagic.count && Array(blob.prefix(awsMagic.count)) == awsMagic }

    /// The unwrapped marker byte, checked and turned into the empty plaintext.
    static func opened(_ plaintext: SecretBytes, provider: String) throws(KMSError) -> SecretBytes {
        guard plaintext.count == 1, plaintext.bytes[0] == 0 else {
            throw KMSError(.invalidCiphertext, "\(provider): the empty-plaintext ciphertext does not hold the marker byte")
        }
        var empty: [UInt8] = []
        return SecretBytes(consuming: &empty)
    }
}
