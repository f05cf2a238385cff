import COpenSSL

/// Random values for a login (state, nonce, PKCE verifier) and the S256 challenge (RFC 7636 §4).
enum PKCE {
    /// 32 random bytes as base64url (43 characters, the RFC's recommended verifier).
    static func randomToken() throws(ConnectorError) -> String {
        var bytes = [UInt8](repeating: 0, count: 32)
        guard RAND_bytes(&bytes, 32) == 1 else { throw ConnectorError(Status.internalError, "the system random generator failed") }
        return Base64.encode(bytes, urlSafe: true)
    }

    static func challenge(for verifier: String) -> String {
        var digest = [UInt8](repeating: 0, count: 32)
        let input = Array(verifier.utf8)
        _ = SHA256(input, input.count, &digest)
        return Base64.encode(digest, urlSafe: true)
    }
}
