/// The JWS signature algorithms the project accepts (RFC 7518 §3, RFC 8037 for EdDSA). There is
/// deliberately no `none` and no HMAC: a verifier holding only public keys must never be
/// talked into treating a public key as a shared secret (RFC 8725 §2.1, §3.1).
public enum JWSAlgorithm: String, Sendable, CaseIterable {
    case rs256 = "RS256"
    case ps256 = "PS256"
    case es256 = "ES256"
    case edDSA = "EdDSA"

    /// The JWK key type ("kty") a key for this algorithm has.
    public var keyType: String {
        switch self {
        case .rs256, .ps256: return "RSA"
        case .es256: return "EC"
        case .edDSA: return "OKP"
        }
    }
}
