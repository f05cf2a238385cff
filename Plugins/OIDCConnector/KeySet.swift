import Glibc
import OpenSSLCrypto
import PluginABI
import Synchronization

/// The issuer's signing keys (its JWKS), cached. A token naming a `kid` the cache does not know
/// triggers one re-fetch (keys rotate), but never more than one fetch at a time and never more
/// often than `minimumRefreshInterval`: a flood of tokens with made-up kids cannot turn the
/// connector into a load generator against the provider (RFC 8725 §3.10's spirit; Dex and
/// go-oidc do the same). Keys older than `maximumAge` are re-fetched on the next use; a failed
/// re-fetch keeps the old keys (a provider blip must not log everyone out).
final class KeySet: Sendable {
    struct Key: Sendable {
        var kid: String?
        var algorithm: String?
        var publicKey: JWKPublicKey
    }

    private struct Cache: Sendable {
        var keys: [Key] = []
        /// Monotonic milliseconds (a wall-clock step must not lift or extend the rate limit).
        var fetchedAt: Int64 = Int64.min / 2
        var lastAttemptAt: Int64 = Int64.min / 2
    }

    private let url: String
    private let client: ProviderClient
    private let host: HostServices
    /// Milliseconds.
    private let minimumRefreshInterval: Int64
    private let maximumAge: Int64
    private let cache = Mutex(Cache())
    /// Held for the whole of a fetch: one fetch at a time.
    private let fetching = Mutex(())

    init(url: String, client: ProviderClient, host: HostServices, minimumRefreshInterval: Int64, maximumAge: Int64) {
        self.url = url
        self.client = client
        self.host = host
        self.minimumRefreshInterval = minimumRefreshInterval * 1000
        self.maximumAge = maximumAge * 1000
    }

    /// Fetches now (at create, so a wrong jwks_uri fails start-up).
    func load() throws(ConnectorError) {
        try fetching.withLock { _ throws(ConnectorError) in try fetch(now: Self.monotonicMilliseconds()) }
    }

    static func monotonicMilliseconds() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Int64(time.tv_sec) * 1000 + Int64(time.tv_nsec) / 1_000_000
    }

    /// The key a token with this header must be verified with, or a precise refusal.
    func key(kid: String?, algorithm: JWSAlgorithm) throws(ConnectorError) -> JWKPublicKey {
        let now = Self.monotonicMilliseconds()
        var snapshot = cache.withLock { $0 }
        if now - snapshot.fetchedAt >= maximumAge {
            try refresh(now: now, because: "the cached keys are older than \(maximumAge / 1000) s", required: false)
            snapshot = cache.withLock { $0 }
        }
        if let key = try select(kid: kid, algorithm: algorithm, in: snapshot.keys) { return key }
        try refresh(now: now, because: kid.map { "unknown kid \"\($0)\"" } ?? "no key for \(algorithm.rawValue)", required: true)
        snapshot = cache.withLock { $0 }
        if let key = try select(kid: kid, algorithm: algorithm, in: snapshot.keys) { return key }
        if let kid {
            throw .denied("unknown kid \"\(kid)\": not in the issuer's JWKS (\(url)), even after refreshing it")
        }
        throw .denied("no key in the issuer's JWKS can verify \(algorithm.rawValue)")
    }

    private func select(kid: String?, algorithm: JWSAlgorithm, in keys: [Key]) throws(ConnectorError) -> JWKPublicKey? {
        if let kid {
            guard let key = keys.first(where: { $0.kid == kid }) else { return nil }
            // The key decides the algorithm, not the token (RFC 8725 §3.1).
            if key.publicKey.keyType != algorithm.keyType {
                throw .denied("kid \"\(kid)\" is a \(key.publicKey.keyType) key, which cannot verify alg \(algorithm.rawValue)")
            }
            if let declared = key.algorithm, declared != algorithm.rawValue {
                throw .denied("kid \"\(kid)\" is declared for alg \(declared), the token says \(algorithm.rawValue)")
            }
            return key.publicKey
        }
        // No kid (some providers omit it when they have one key): only an unambiguous choice.
        let candidates = keys.filter {
            $0.publicKey.keyType == algorithm.keyType && ($0.algorithm == nil || $0.algorithm == algorithm.rawValue)
        }
        if candidates.count > 1 {
            throw .denied(
                "the token has no kid and the issuer's JWKS holds \(candidates.count) keys for \(algorithm.rawValue); refusing to guess")
        }
        return candidates.first?.publicKey
    }

    /// Re-fetches unless another thread just did or the rate limit forbids it. `required`: the
    /// caller cannot go on without new keys, so a refusal by the rate limit is its answer.
    private func refresh(now: Int64, because reason: String, required: Bool) throws(ConnectorError) {
        let before = cache.withLock { $0.lastAttemptAt }
        try fetching.withLock { _ throws(ConnectorError) in
            let now = max(now, Self.monotonicMilliseconds())  // we may have waited for the lock
            let state = cache.withLock { $0 }
            if state.lastAttemptAt != before { return }  // another thread fetched while we waited
            let elapsed = now - state.lastAttemptAt
            if elapsed < minimumRefreshInterval {
                guard required else { return }
                let ago = Double(elapsed) / 1000
                throw .denied(
                    "\(reason): the JWKS was fetched \((ago * 10).rounded() / 10) s ago and is re-fetched at most every \(minimumRefreshInterval / 1000) s")
            }
            do throws(ConnectorError) {
                try fetch(now: now)
            } catch {
                if required || state.keys.isEmpty { throw error }
                host.log(LAFORGE_LOG_WARNING, "keeping the cached JWKS: \(error.message)")
            }
        }
    }

    /// Called with `fetching` held.
    private func fetch(now: Int64) throws(ConnectorError) {
        cache.withLock { $0.lastAttemptAt = now }
        host.counterAdd("laforge_oidc_jwks_fetches_total")
        let (status, json) = try client.getJSON(url, purpose: "JWKS fetch")
        guard (200..<300).contains(status) else {
            throw ConnectorError(status >= 500 || status == 429 ? Status.retry : Status.accessDenied, "JWKS fetch: \(url) answered HTTP \(status)")
        }
        guard case .array(let entries)? = json?.member("keys") else {
            throw ConnectorError(Status.accessDenied, "JWKS fetch: \(url) is not a JWK set (no \"keys\" array)")
        }
        var keys: [Key] = []
        for (index, entry) in entries.enumerated() {
            do throws(JWKError) {
                if let key = try Self.parseKey(entry) { keys.append(key) }
            } catch {
                host.log(LAFORGE_LOG_WARNING, "JWKS key \(index) (kid \(entry.member("kid")?.string ?? "none")) skipped: \(error.message)")
            }
        }
        cache.withLock {
            $0.keys = keys
            $0.fetchedAt = now
        }
    }

    /// A signing key, nil for a key this connector never uses (encryption keys, unknown types).
    static func parseKey(_ jwk: JSONValue) throws(JWKError) -> Key? {
        guard let kty = jwk.member("kty")?.string else { throw JWKError("no kty") }
        if let use = jwk.member("use")?.string, use != "sig" { return nil }
        if jwk.member("d") != nil { throw JWKError("the JWK holds private key material; a JWKS must publish public keys only") }
        func bytes(_ name: String) throws(JWKError) -> [UInt8] {
            guard let text = jwk.member(name)?.string, let decoded = Base64.decode(text, .jose) else {
                throw JWKError("member \(name) is missing or not base64url")
            }
            return decoded
        }
        let material: JWKPublicKey.Material
        switch kty {
        case "RSA": material = .rsa(modulus: try bytes("n"), exponent: try bytes("e"))
        case "EC":
            guard jwk.member("crv")?.string == "P-256" else { return nil }
            material = .p256(x: try bytes("x"), y: try bytes("y"))
        case "OKP":
            guard jwk.member("crv")?.string == "Ed25519" else { return nil }
            material = .ed25519(x: try bytes("x"))
        default: return nil
        }
        return Key(kid: jwk.member("kid")?.string, algorithm: jwk.member("alg")?.string, publicKey: try JWKPublicKey(material))
    }
}
