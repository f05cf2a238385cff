import Glibc
import OpenSSLCrypto

/// Validates a signed JWT (JWS compact serialization) the RFC 8725 way, in an order that makes
/// each refusal precise: shape, header (`alg` against the issuer's allow-list, never `none`,
/// never HMAC; `crit`; `typ`), key by `kid`, signature, and only then the claims (`iss` exact,
/// `aud`, `exp`/`nbf`/`iat` with the configured skew). `jku`, `x5u`, `jwk` and `x5c` headers are
/// ignored: keys come from the issuer's discovered JWKS only, never from the token.
struct JWTValidator {
    let config: OIDCConfig
    let keys: KeySet

    enum Purpose {
        /// A bearer token presented to a service: `typ` must be an access-token type.
        case accessToken
        /// The id_token of a login: `aud` is the client id, `nonce` must match.
        case idToken(nonce: String?)
    }

    /// The claims of a token that passed every check, and the payload they were read from.
    struct Verified {
        var claims: JSONValue
        /// The decoded payload: JSON text the connector has parsed and checked, so it can be
        /// handed on as is instead of being written again.
        var payload: [UInt8]
    }

    /// How many dots a token has (counted up to 5: more is not a JWT either way) and where the
    /// first two are. memchr on the bytes: this runs twice for every request.
    static func dots(_ token: [UInt8]) -> (count: Int, first: Int, second: Int) {
        token.withUnsafeBufferPointer { bytes in
            guard let base = bytes.baseAddress else { return (0, 0, 0) }
            var positions = (0, 0)
            var count = 0
            var from = 0
            while count < 5, from < bytes.count, let found = memchr(base + from, Int32(UInt8(ascii: ".")), bytes.count - from) {
                let index = base.distance(to: found.assumingMemoryBound(to: UInt8.self))
                if count == 0 { positions.0 = index } else if count == 1 { positions.1 = index }
                count += 1
                from = index + 1
            }
            return (count, positions.0, positions.1)
        }
    }

    /// JWS (three parts) or JWE (five, refused with its own reason); anything else is opaque.
    static func looksLikeJWT(_ token: [UInt8]) -> Bool {
        let count = dots(token).count
        return count == 2 || count == 4
    }

    func validate(_ token: [UInt8], purpose: Purpose, now: Int64) throws(ConnectorError) -> Verified {
        let dots = Self.dots(token)
        if dots.count == 4 { throw .denied("encrypted tokens (JWE) are not accepted") }
        guard dots.count == 2 else { throw .denied("not a JWT (expected three base64url parts separated by dots)") }
        let headerPart = token[..<dots.first]
        let payloadPart = token[(dots.first + 1)..<dots.second]
        let signaturePart = token[(dots.second + 1)...]
        guard let headerBytes = Base64.decode(headerPart, .jose), let header = try? JSONReader.parse(headerBytes),
            case .object = header
        else { throw .denied("the JWT header is not base64url-encoded JSON") }

        let algorithm = try checkAlgorithm(header.member("alg"))
        if let critical = header.member("crit") {
            throw .denied("the JWT header lists critical extensions \(String(decoding: JSONWriter.bytes(critical), as: UTF8.self)) this connector does not understand")
        }
        try checkType(header.member("typ"), purpose: purpose)

        let kid: String?
        switch header.member("kid") {
        case nil, .null?: kid = nil
        case .string(let value)?: kid = value
        default: throw .denied("the JWT header's kid is not a string")
        }
        let key = try keys.key(kid: kid, algorithm: algorithm)
        guard let signature = Base64.decode(signaturePart, .jose) else { throw .denied("the JWT signature is not base64url") }
        let verified = token.withUnsafeBytes { bytes in
            SignatureVerifier.verify(
                algorithm, key: key, message: UnsafeRawBufferPointer(rebasing: bytes[..<dots.second]), signature: signature)
        }
        guard verified else {
            throw .denied("signature verification failed (\(algorithm.rawValue), kid \(kid.map { "\"\($0)\"" } ?? "none"))")
        }

        guard let payloadBytes = Base64.decode(payloadPart, .jose), let claims = try? JSONReader.parse(payloadBytes),
            case .object = claims
        else { throw .denied("the JWT payload is not base64url-encoded JSON") }
        try checkClaims(claims, purpose: purpose, now: now)
        return Verified(claims: claims, payload: payloadBytes)
    }

    private func checkAlgorithm(_ value: JSONValue?) throws(ConnectorError) -> JWSAlgorithm {
        guard let name = value?.string else { throw .denied("the JWT header has no alg") }
        if name.lowercased() == "none" { throw .denied("alg \"\(name)\" (an unsigned token) is never accepted") }
        if name.hasPrefix("HS") {
            throw .denied(
                "alg \(name) (HMAC) is refused: this issuer signs with public keys, and a public key is not a shared secret (RFC 8725 §2.1)")
        }
        guard let algorithm = JWSAlgorithm(rawValue: name), config.algorithms.contains(algorithm) else {
            throw .denied("alg \(name) is not allowed for this issuer (allowed: \(config.algorithms.map(\.rawValue).joined(separator: ", ")))")
        }
        return algorithm
    }

    private func checkType(_ value: JSONValue?, purpose: Purpose) throws(ConnectorError) {
        guard case .accessToken = purpose else { return }
        guard let value else {
            if config.requireTokenType { throw .denied("the JWT header has no typ, and require_token_type is set") }
            return
        }
        guard let typ = value.string else { throw .denied("the JWT header's typ is not a string") }
        // RFC 9068 §4: compare without case; "application/" may be left out.
        let lowered = typ.lowercased()
        let accepted = config.acceptedTypesLowercased
        guard accepted.contains(lowered) || accepted.contains("application/" + lowered) else {
            throw .denied("typ \"\(typ)\" is not an accepted access-token type (accepted: \(config.accessTokenTypes.joined(separator: ", ")))")
        }
    }

    private func checkClaims(_ claims: JSONValue, purpose: Purpose, now: Int64) throws(ConnectorError) {
        let skew = config.clockSkewSeconds
        guard let issuer = claims.member("iss")?.string else { throw .denied("the token has no iss claim") }
        guard issuer == config.issuer else {
            throw .denied("iss \"\(issuer)\" is not the configured issuer \"\(config.issuer)\"")
        }
        let audiences: [String]
        switch claims.member("aud") {
        case .string(let one)?: audiences = [one]
        case .array(let many)?: audiences = many.compactMap(\.string)
        default: throw .denied("the token has no aud claim")
        }
        let expected: [String]
        if case .idToken = purpose { expected = [config.clientID] } else { expected = config.audiences }
        guard audiences.contains(where: expected.contains) else {
            throw .denied("aud \(audiences) does not contain \(expected.count == 1 ? "\"\(expected[0])\"" : "any of \(expected)")")
        }
        guard let expiry = claims.member("exp")?.numericDate else { throw .denied("the token has no exp claim") }
        guard now <= expiry + skew else {
            throw .denied("the token expired at \(expiry) (now \(now), allowed clock skew \(skew) s)")
        }
        if let notBefore = claims.member("nbf") {
            guard let value = notBefore.numericDate else { throw .denied("nbf is not a number") }
            guard now + skew >= value else {
                throw .denied("the token is not valid before \(value) (now \(now), allowed clock skew \(skew) s)")
            }
        }
        if let issuedAt = claims.member("iat") {
            guard let value = issuedAt.numericDate else { throw .denied("iat is not a number") }
            guard value <= now + skew else {
                throw .denied("the token was issued in the future (iat \(value), now \(now), allowed clock skew \(skew) s)")
            }
        }
        guard let subject = claims.member("sub")?.string, !subject.isEmpty else { throw .denied("the token has no sub claim") }
        if case .idToken(let nonce?) = purpose {
            guard claims.member("nonce")?.string == nonce else { throw .denied("the id_token's nonce does not match the login request") }
        }
    }
}
