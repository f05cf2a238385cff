import OpenSSLCrypto

/// The connector's configuration. The host validates the user's YAML against `schema`, applies
/// the defaults and hands over canonical JSON; `init(json:)` only reads it (and checks what a
/// schema cannot express: URLs, regexes, the production rules).
final class OIDCConfig: @unchecked Sendable {
    // @unchecked: never changed after init; the compiled groups_filter Regex is only read. A class:
    // every validation reads it, and one reference is cheaper to pass around than its fields.
    var issuer: String
    var clientID: String
    var clientSecret: String?
    /// `aud` must contain one of these (default: the client id).
    var audiences: [String]
    var algorithms: [JWSAlgorithm]
    var clockSkewSeconds: Int64
    var accessTokenTypes: [String]
    /// `accessTokenTypes` lowered once (RFC 9068 compares them without case).
    var acceptedTypesLowercased: [String] { accessTokenTypesLowercased }
    private var accessTokenTypesLowercased: [String] = []
    var requireTokenType: Bool
    /// Opaque (non-JWT) access tokens: refused, or checked by RFC 7662 introspection.
    var introspectOpaqueTokens: Bool
    /// Overrides the discovered `introspection_endpoint`.
    var introspectionEndpoint: String?
    var introspectionCacheSeconds: Int64
    var introspectionCacheEntries: Int
    var introspectionMaxPerSecond: Int
    var scopes: [String]
    var usernameClaim: String
    var groupsClaim: String
    var groupsPrefix: String
    var groupsFilter: Regex<AnyRegexOutput>?
    var tenantClaim: String?
    var orgClaim: String?
    var jwksRefreshMinIntervalSeconds: Int64
    var jwksMaxAgeSeconds: Int64
    var caFile: String?
    var timeoutMilliseconds: Int

    static let schema = """
        {"type":"object","additionalProperties":false,"required":["issuer","client_id"],"properties":{\
        "issuer":{"type":"string","minLength":1,"description":"Exact issuer URL; discovery is <issuer>/.well-known/openid-configuration"},\
        "client_id":{"type":"string","minLength":1},\
        "client_secret":{"type":"string","x-laforge-secret":true},\
        "audiences":{"type":"array","items":{"type":"string","minLength":1},"description":"aud must contain one of these (default: client_id)"},\
        "algorithms":{"type":"array","minItems":1,"items":{"enum":["RS256","PS256","ES256","EdDSA"]},"default":["RS256","PS256","ES256","EdDSA"]},\
        "clock_skew_seconds":{"type":"integer","minimum":0,"maximum":300,"default":30},\
        "access_token_types":{"type":"array","items":{"type":"string"},"default":["at+jwt","application/at+jwt","JWT"]},\
        "require_token_type":{"type":"boolean","default":false},\
        "opaque_tokens":{"enum":["reject","introspect"],"default":"reject","description":"Tokens that are not JWTs: refused, or checked by RFC 7662 introspection (needs client_secret)"},\
        "introspection_endpoint":{"type":"string","minLength":1,"description":"Overrides the discovered introspection_endpoint"},\
        "introspection_cache_seconds":{"type":"integer","minimum":0,"maximum":3600,"default":60},\
        "introspection_cache_entries":{"type":"integer","minimum":1,"maximum":1000000,"default":10000},\
        "introspection_max_per_second":{"type":"integer","minimum":1,"maximum":10000,"default":20},\
        "scopes":{"type":"array","items":{"type":"string"},"default":["openid","profile","email","offline_access"]},\
        "username_claim":{"type":"string","minLength":1,"default":"preferred_username"},\
        "groups_claim":{"type":"string","minLength":1,"default":"groups"},\
        "groups_prefix":{"type":"string","default":""},\
        "groups_filter":{"type":"string","minLength":1},\
        "tenant_claim":{"type":"string","minLength":1},\
        "org_claim":{"type":"string","minLength":1},\
        "jwks_refresh_min_interval_seconds":{"type":"integer","minimum":0,"maximum":3600,"default":10},\
        "jwks_max_age_seconds":{"type":"integer","minimum":1,"default":3600},\
        "ca_file":{"type":"string","minLength":1},\
        "timeout_ms":{"type":"integer","minimum":100,"maximum":120000,"default":10000}}}
        """

    init(json: JSONValue, development: Bool) throws(ConnectorError) {
        func string(_ key: String) -> String? { json.member(key)?.string }
        func strings(_ key: String) -> [String]? {
            guard case .array(let items)? = json.member(key) else { return nil }
            return items.compactMap(\.string)
        }
        func integer(_ key: String, _ fallback: Int64) -> Int64 { json.member(key)?.numericDate ?? fallback }

        guard let issuer = string("issuer"), let clientID = string("client_id") else {
            throw .invalidConfig("issuer and client_id are required")
        }
        try Self.checkIssuer(issuer, development: development)
        self.issuer = issuer
        self.clientID = clientID
        clientSecret = string("client_secret")
        audiences = strings("audiences").flatMap { $0.isEmpty ? nil : $0 } ?? [clientID]
        algorithms = (strings("algorithms") ?? JWSAlgorithm.allCases.map(\.rawValue)).compactMap(JWSAlgorithm.init(rawValue:))
        clockSkewSeconds = integer("clock_skew_seconds", 30)
        accessTokenTypes = strings("access_token_types") ?? ["at+jwt", "application/at+jwt", "JWT"]
        accessTokenTypesLowercased = accessTokenTypes.map { $0.lowercased() }
        if case .bool(let flag)? = json.member("require_token_type") { requireTokenType = flag } else { requireTokenType = false }
        introspectOpaqueTokens = string("opaque_tokens") == "introspect"
        introspectionEndpoint = string("introspection_endpoint")
        introspectionCacheSeconds = integer("introspection_cache_seconds", 60)
        introspectionCacheEntries = Int(integer("introspection_cache_entries", 10_000))
        introspectionMaxPerSecond = Int(integer("introspection_max_per_second", 20))
        scopes = strings("scopes") ?? ["openid", "profile", "email", "offline_access"]
        usernameClaim = string("username_claim") ?? "preferred_username"
        groupsClaim = string("groups_claim") ?? "groups"
        groupsPrefix = string("groups_prefix") ?? ""
        if let pattern = string("groups_filter") {
            do { groupsFilter = try Regex(pattern) } catch {
                throw .invalidConfig("groups_filter is not a valid regular expression: \(error)")
            }
        }
        tenantClaim = string("tenant_claim")
        orgClaim = string("org_claim")
        jwksRefreshMinIntervalSeconds = integer("jwks_refresh_min_interval_seconds", 10)
        jwksMaxAgeSeconds = integer("jwks_max_age_seconds", 3600)
        caFile = string("ca_file")
        timeoutMilliseconds = Int(integer("timeout_ms", 10_000))
        if introspectOpaqueTokens && clientSecret == nil {
            throw .invalidConfig("opaque_tokens: introspect needs client_secret (RFC 7662 endpoints authenticate the caller)")
        }
        if let introspectionEndpoint { try Self.checkURL(introspectionEndpoint, "introspection_endpoint", development: development) }
    }

    static func checkIssuer(_ issuer: String, development: Bool) throws(ConnectorError) {
        do { try checkURL(issuer, "issuer", development: development) } catch { throw .invalidConfig(error.message) }
    }

    /// The rule for every URL of the provider (the issuer, and each one discovery names: jwks_uri,
    /// the token, userinfo, authorization, device and introspection endpoints): https everywhere;
    /// plain http only to a loopback host in development mode (a test provider on 127.0.0.1),
    /// never in production.
    static func checkURL(_ url: String, _ name: String, development: Bool) throws(ConnectorError) {
        if url.hasPrefix("https://") { return }
        guard url.hasPrefix("http://") else {
            throw ConnectorError(Status.invalidArgument, "\(name) \"\(url)\" must be an https:// URL")
        }
        let rest = url.dropFirst("http://".count)
        let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        let host = authority.hasPrefix("[") ? String(authority.prefix { $0 != "]" }) + "]" : String(authority.prefix { $0 != ":" })
        guard ["127.0.0.1", "localhost", "[::1]"].contains(host) else {
            throw ConnectorError(
                Status.invalidArgument, "\(name) \"\(url)\" must be an https:// URL (http is allowed only to a loopback host in development mode)")
        }
        guard development else {
            throw ConnectorError(Status.invalidArgument, "\(name) \"\(url)\" uses plain http, which production mode refuses")
        }
    }
}
