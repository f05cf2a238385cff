import COpenSSL

/// Verifies a JWS signature with OpenSSL's EVP interface: RS256 (PKCS #1 v1.5), PS256 (PSS,
/// MGF1-SHA-256, salt = digest length), ES256 (the JWS form r‖s, 64 bytes, converted to DER for
/// OpenSSL) and EdDSA (Ed25519, no pre-hash). The algorithm must match the key's type; a
/// mismatch is a failed verification, never a fallback.
public enum SignatureVerifier {
    public static func verify(
        _ algorithm: JWSAlgorithm, key: JWKPublicKey, message: UnsafeRawBufferPointer, signature: [UInt8]
    ) -> Bool {
        guard key.keyType == algorithm.keyType else { return false }
        let openSSLSignature: [UInt8]
        switch algorithm {
        case .rs256, .ps256:
            guard signature.count == (key.bits + 7) / 8 else { return false }
            openSSLSignature = signature
        case .es256:
            guard let der = derSignature(rawP256: signature) else { return false }
            openSSLSignature = der
        case .edDSA:
            guard signature.count == 64 else { return false }
            openSSLSignature = signature
        }
        return openSSLSignature.withUnsafeBufferPointer { signature in
            if let prepared = key.prepared(for: algorithm) { return prepared.verify(message: message, signature: signature) }
            return verifyOnce(algorithm, key: key.key, message: message, signature: signature)
        }
    }

    public static func verify(_ algorithm: JWSAlgorithm, key: JWKPublicKey, message: [UInt8], signature: [UInt8]) -> Bool {
        message.withUnsafeBytes { verify(algorithm, key: key, message: $0, signature: signature) }
    }

    /// Sets `context` up to verify `algorithm` signatures with `key` (EVP_sha256 for every
    /// algorithm but EdDSA, which hashes internally; PSS: MGF1-SHA-256, salt = digest length).
    static func initialise(_ context: OpaquePointer, key: OpaquePointer, algorithm: JWSAlgorithm) -> Bool {
        var keyContext: OpaquePointer? = nil
        guard EVP_DigestVerifyInit(context, &keyContext, algorithm == .edDSA ? nil : EVP_sha256(), nil, key) == 1 else {
            ERR_clear_error()
            return false
        }
        if algorithm == .ps256 {
            guard EVP_PKEY_CTX_set_rsa_padding(keyContext, RSA_PKCS1_PSS_PADDING) == 1,
                EVP_PKEY_CTX_set_rsa_pss_saltlen(keyContext, RSA_PSS_SALTLEN_DIGEST) == 1,
                EVP_PKEY_CTX_set_rsa_mgf1_md(keyContext, EVP_sha256()) == 1
            else {
                ERR_clear_error()
                return false
            }
        }
        return true
    }

    /// A verification with a context of its own (keys without a prepared one: Ed25519).
    private static func verifyOnce(
        _ algorithm: JWSAlgorithm, key: OpaquePointer, message: UnsafeRawBufferPointer, signature: UnsafeBufferPointer<UInt8>
    ) -> Bool {
        guard let context = EVP_MD_CTX_new() else { return false }
        defer { EVP_MD_CTX_free(context) }
        guard initialise(context, key: key, algorithm: algorithm) else { return false }
        let result = EVP_DigestVerify(
            context, signature.baseAddress, signature.count, message.baseAddress?.assumingMemoryBound(to: UInt8.self), message.count)
        if result != 1 { ERR_clear_error() }
        return result == 1
    }

    /// JWS carries an ECDSA signature as r‖s (RFC 7518 §3.4); OpenSSL wants DER.
    static func derSignature(rawP256 raw: [UInt8]) -> [UInt8]? {
        guard raw.count == 64, let signature = ECDSA_SIG_new() else { return nil }
        defer { ECDSA_SIG_free(signature) }
        let r = raw.withUnsafeBufferPointer { BN_bin2bn($0.baseAddress, 32, nil) }
        let s = raw.withUnsafeBufferPointer { BN_bin2bn($0.baseAddress! + 32, 32, nil) }
        guard let r, let s, ECDSA_SIG_set0(signature, r, s) == 1 else {
            BN_free(r)
            BN_free(s)
            return nil
        }
        var out: UnsafeMutablePointer<UInt8>? = nil
        let length = i2d_ECDSA_SIG(signature, &out)
        guard length > 0, let out else { return nil }
        defer { CRYPTO_free(out, #fileID, #line) }
        return Array(UnsafeBufferPointer(start: out, count: Int(length)))
    }
}
