import COpenSSL

/// A digest-verify context set up once for one key and one algorithm (the digest and signature
/// implementations fetched, PSS parameters set), which each verification copies instead of
/// building its own.
///
/// Why: with OpenSSL 3, `EVP_DigestVerifyInit` looks up the key manager, the signature
/// implementation and the digest by name (lock, hash-table walk, allocations) on every call,
/// and `EVP_DigestVerifyFinal` duplicates the key context once more; together about a fifth of
/// an RSA-2048 verification. A copy duplicates the prepared contexts and nothing else, and
/// `EVP_MD_CTX_FLAG_FINALISE` lets the copy be finalised in place.
///
/// Thread safety: the template is never used for an operation, only read by
/// `EVP_MD_CTX_copy_ex`, which takes it as `const` and only takes references on what it
/// shares (openssl-threads(7): objects are thread-safe while the calls made on them do not
/// modify them). Each verification has its own copy, so threads never share a working context.
final class PreparedVerification: @unchecked Sendable {
    // @unchecked: `template` is only read (copied) after init, see above.
    private let template: OpaquePointer

    /// nil when OpenSSL cannot prepare (or, for Ed25519, copy) such a context; the caller then
    /// initialises one per verification.
    init?(key: OpaquePointer, algorithm: JWSAlgorithm) {
        // OpenSSL 3.0 cannot copy an EdDSA (one-shot) verify context.
        guard algorithm != .edDSA, let context = EVP_MD_CTX_new() else { return nil }
        EVP_MD_CTX_set_flags(context, EVP_MD_CTX_FLAG_FINALISE)
        guard SignatureVerifier.initialise(context, key: key, algorithm: algorithm) else {
            EVP_MD_CTX_free(context)
            return nil
        }
        template = context
    }

    deinit { EVP_MD_CTX_free(template) }

    /// Whether `signature` (in OpenSSL's form: DER for ECDSA) verifies over `message`.
    func verify(message: UnsafeRawBufferPointer, signature: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let context = EVP_MD_CTX_new() else { return false }
        defer { EVP_MD_CTX_free(context) }
        guard EVP_MD_CTX_copy_ex(context, template) == 1 else {
            ERR_clear_error()
            return false
        }
        let result = EVP_DigestVerify(
            context, signature.baseAddress, signature.count, message.baseAddress?.assumingMemoryBound(to: UInt8.self), message.count)
        if result != 1 { ERR_clear_error() }
        return result == 1
    }
}
