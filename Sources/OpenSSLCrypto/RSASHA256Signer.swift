import COpenSSL

/// RSASSA-PKCS1-v1_5 with SHA-256 (JWS `RS256`, RFC 7518 §3.3): what Google's OAuth 2.0
/// JWT-bearer flow wants for a service-account assertion.
public struct RSASHA256Signer: Sendable {
    public let key: PEMPrivateKey

    public init(key: PEMPrivateKey) throws(OpenSSLCryptoError) {
        guard key.isRSA else { throw OpenSSLCryptoError("RS256 needs an RSA private key") }
        // RFC 7518 §3.3: a key of 2048 bits or larger MUST be used.
        guard key.bits >= 2048 else { throw OpenSSLCryptoError("RS256 needs an RSA key of at least 2048 bits (this one has \(key.bits))") }
        self.key = key
    }

    public func sign(_ message: [UInt8]) throws(OpenSSLCryptoError) -> [UInt8] {
        guard let context = EVP_MD_CTX_new() else { throw OpenSSLCryptoError("cannot allocate a digest context") }
        defer { EVP_MD_CTX_free(context) }
        ERR_clear_error()
        // EVP_PKEY_RSA defaults to PKCS#1 v1.5 padding, which is RS256's.
        guard EVP_DigestSignInit(context, nil, EVP_sha256(), nil, key.key) == 1 else {
            ERR_clear_error()
            throw OpenSSLCryptoError("EVP_DigestSignInit failed")
        }
        var length = 0
        guard message.withUnsafeBufferPointer({ EVP_DigestSign(context, nil, &length, $0.baseAddress, $0.count) }) == 1 else {
            ERR_clear_error()
            throw OpenSSLCryptoError("EVP_DigestSign (size) failed")
        }
        var signature = [UInt8](repeating: 0, count: length)
        let signed = message.withUnsafeBufferPointer { input in
            signature.withUnsafeMutableBufferPointer { EVP_DigestSign(context, $0.baseAddress, &length, input.baseAddress, input.count) }
        }
        guard signed == 1 else {
            ERR_clear_error()
            throw OpenSSLCryptoError("EVP_DigestSign failed")
        }
        return Array(signature.prefix(length))
    }
}
