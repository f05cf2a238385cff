import Glibc
import COpenSSL
import HTTPClient
import Synchronization

/// Opaque access tokens checked by the provider's RFC 7662 introspection endpoint (opt-in:
/// `opaque_tokens: introspect`). The connector authenticates as its client (client_secret_basic)
/// and accepts a token only when the answer says `active: true`, names one of the configured
/// audiences in `aud` (a token issued to another client of the same provider is refused), comes
/// from this issuer and has not expired.
///
/// Answers are cached by the token's SHA-256 (never the token itself) for
/// `introspection_cache_seconds`, never beyond the token's `exp`; refusals are cached as long, so
/// replaying a bad token costs the provider nothing. Calls to the provider are limited to
/// `introspection_max_per_second` (a token bucket): beyond it validation answers RETRY, so a flood
/// of made-up tokens cannot turn the connector into an amplifier against the provider.
final class TokenIntrospector: Sendable {
    private struct Answer {
        var result: Result<JSONValue, ConnectorError>
        var until: Int64
    }

    private struct Bucket {
        var tokens: Double
        var refilledAt: Double
    }

    private let endpoint: String
    private let config: OIDCConfig
    private let client: ProviderClient
    private let cache = Mutex<[[UInt8]: Answer]>([:])
    private let bucket: Mutex<Bucket>

    init(endpoint: String, config: OIDCConfig, client: ProviderClient) {
        self.endpoint = endpoint
        self.config = config
        self.client = client
        bucket = Mutex(Bucket(tokens: Double(config.introspectionMaxPerSecond), refilledAt: Self.monotonicSeconds()))
    }

    /// The token's claims as the provider states them, or the reason it is refused.
    func claims(for token: [UInt8], now: Int64) throws(ConnectorError) -> JSONValue {
        let key = Self.digest(token)
        if let cached = cache.withLock({ $0[key] }), cached.until > now { return try cached.result.get() }
        try takeRequestToken()
        let (status, json) = try client.postForm(
            endpoint, fields: [("token", String(decoding: token, as: UTF8.self)), ("token_type_hint", "access_token")],
            credentials: config.clientSecret.map {
                HTTPCredentials(user: FormEncoding.escape(config.clientID), password: FormEncoding.escape($0))
            }, purpose: "token introspection")
        switch status {
        case 200..<300: break
        case 429, 500...: throw ConnectorError(Status.retry, "token introspection: HTTP \(status)")
        case 401, 403:
            throw ConnectorError(
                Status.accessDenied, "token introspection: the provider refused the connector's client credentials (HTTP \(status))")
        default: throw .denied("token introspection: the provider answered HTTP \(status)")
        }
        guard let json, case .object = json else { throw ConnectorError(Status.retry, "token introspection: the answer is not a JSON object") }
        let result = Result<JSONValue, ConnectorError> { () throws(ConnectorError) -> JSONValue in try judge(json, now: now) }
        let exp = json.member("exp")?.numericDate
        var until = now + config.introspectionCacheSeconds
        if case .success = result, let exp { until = min(until, exp + config.clockSkewSeconds) }
        remember(key, Answer(result: result, until: until), now: now)
        return try result.get()
    }

    /// RFC 7662 §2.2: only `active` is required of the provider; the connector also requires
    /// `aud` (its audience binding) and `sub` (the identity).
    private func judge(_ json: JSONValue, now: Int64) throws(ConnectorError) -> JSONValue {
        guard case .bool(true)? = json.member("active") else { throw .denied("token introspection: the provider says the token is not active") }
        let audiences: [String] =
            switch json.member("aud") {
            case .string(let one)?: [one]
            case .array(let many)?: many.compactMap(\.string)
            default: []
            }
        guard !audiences.isEmpty else {
            throw .denied("token introspection: the answer has no aud, so the token cannot be bound to this client")
        }
        guard audiences.contains(where: config.audiences.contains) else {
            throw .denied(
                "token introspection: the token was issued for \(audiences.joined(separator: ", ")), not for \(config.audiences.joined(separator: ", "))")
        }
        if let issuer = json.member("iss")?.string, issuer != config.issuer {
            throw .denied("token introspection: the token's iss \"\(issuer)\" is not the configured issuer")
        }
        if let exp = json.member("exp")?.numericDate, exp + config.clockSkewSeconds <= now {
            throw .denied("token introspection: the token expired")
        }
        if let nbf = json.member("nbf")?.numericDate, nbf - config.clockSkewSeconds > now {
            throw .denied("token introspection: the token is not valid yet (nbf)")
        }
        guard let subject = json.member("sub")?.string, !subject.isEmpty else {
            throw .denied("token introspection: the answer has no sub")
        }
        return json
    }

    private func takeRequestToken() throws(ConnectorError) {
        let rate = Double(config.introspectionMaxPerSecond)
        let allowed = bucket.withLock { bucket -> Bool in
            let now = Self.monotonicSeconds()
            bucket.tokens = min(rate, bucket.tokens + (now - bucket.refilledAt) * rate)
            bucket.refilledAt = now
            guard bucket.tokens >= 1 else { return false }
            bucket.tokens -= 1
            return true
        }
        guard allowed else {
            throw ConnectorError(
                Status.retry,
                "token introspection: more than \(config.introspectionMaxPerSecond) provider calls per second (introspection_max_per_second); try again")
        }
    }

    /// Keeps at most `introspection_cache_entries` answers: expired ones go first, then the ones
    /// that would expire soonest.
    private func remember(_ key: [UInt8], _ answer: Answer, now: Int64) {
        cache.withLock { cache in
            if cache.count >= config.introspectionCacheEntries {
                cache = cache.filter { $0.value.until > now }
                while cache.count >= config.introspectionCacheEntries, let soonest = cache.min(by: { $0.value.until < $1.value.until }) {
                    cache.removeValue(forKey: soonest.key)
                }
            }
            cache[key] = answer
        }
    }

    private static func digest(_ token: [UInt8]) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: 32)
        _ = SHA256(token, token.count, &digest)
        return digest
    }

    private static func monotonicSeconds() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
    }
}
