import COpenSSL

/// A private key loaded from PEM text (PKCS#8 `BEGIN PRIVATE KEY`, or the traditional
/// `BEGIN RSA PRIVATE KEY`), held by libcrypto. The PEM text is never part of an error message.
public final class PEMPrivateKey: @unchecked Sendable {
    // @unchecked: the EVP_PKEY is only read after init (signing uses its own context per call).
    let key: OpaquePointer

    public init(pem: [UInt8]) throws(OpenSSLCryptoError) {
        guard let bio = pem.withUnsafeBytes({ BIO_new_mem_buf($0.baseAddress, Int32($0.count)) }) else {
            throw OpenSSLCryptoError("cannot allocate a memory BIO")
        }
        defer { BIO_free(bio) }
        ERR_clear_error()
        // No passphrase callback: encrypted keys are refused rather than prompting on a terminal.
        guard let key = PEM_read_bio_PrivateKey(bio, nil, { _, _, _, _ in 0 }, nil) else {
            ERR_clear_error()
            throw OpenSSLCryptoError("the PEM text is not an unencrypted private key")
        }
        self.key = key
    }

    deinit { EVP_PKEY_free(key) }

    /// Whether this is an RSA key (what RS256 needs).
    public var isRSA: Bool { EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA }

    /// The modulus size in bits (RSA) or the curve size.
    public var bits: Int { Int(EVP_PKEY_get_bits(key)) }
}

/// A libcrypto failure, without key material.
public struct OpenSSLCryptoError: Error, Sendable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) { self.message = message }

    public var description: String { message }
}
