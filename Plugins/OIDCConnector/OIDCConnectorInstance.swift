import Glibc
import HTTPClient
import PluginABI
import Synchronization

/// One configured OIDC connector: discovery at create, then token validation (JWT through the
/// cached JWKS, opaque tokens through userinfo), the authorization-code login with PKCE, refresh
/// and the device flow. CONCURRENT: validations share the key cache and an HTTP client pool.
final class OIDCConnectorInstance: IdPConnectorPlugin, Sendable {
    let host: HostServices
    private let state = Mutex<Configured?>(nil)
    let lastError = LastErrorBuffer()

    /// Set once by create; a class so each call takes one reference, not a copy of every field.
    final class Configured: Sendable {
        let config: OIDCConfig
        let metadata: ProviderMetadata
        let client: ProviderClient
        let keys: KeySet
        let validator: JWTValidator
        let mapping: ClaimMapping
        /// nil unless `opaque_tokens: introspect`.
        let introspector: TokenIntrospector?

        init(config: OIDCConfig, metadata: ProviderMetadata, client: ProviderClient, keys: KeySet, introspector: TokenIntrospector?) {
            self.config = config
            self.metadata = metadata
            self.client = client
            self.keys = keys
            self.introspector = introspector
            validator = JWTValidator(config: config, keys: keys)
            mapping = ClaimMapping(config: config)
        }
    }

    init(host: HostServices) { self.host = host }

    static func now() -> Int64 { Int64(time(nil)) }

    func configure(_ bytes: [UInt8]) throws(ConnectorError) {
        let json: JSONValue
        json = try ConfigJSON.value(bytes, invalid: ConnectorError.invalidConfig)
        let config = try OIDCConfig(json: json, development: host.isDevelopment)
        let client = ProviderClient(caFile: config.caFile, timeoutMilliseconds: config.timeoutMilliseconds)
        let metadata = try ProviderMetadata.discover(issuer: config.issuer, client: client, development: host.isDevelopment)
        var introspector: TokenIntrospector?
        if config.introspectOpaqueTokens {
            guard let endpoint = config.introspectionEndpoint ?? metadata.introspectionEndpoint else {
                throw .invalidConfig(
                    "opaque_tokens: introspect, but the provider advertises no introspection_endpoint (set introspection_endpoint)")
            }
            introspector = TokenIntrospector(endpoint: endpoint, config: config, client: client)
        }
        let keys = KeySet(
            url: metadata.jwksURI, client: client, host: host,
            minimumRefreshInterval: config.jwksRefreshMinIntervalSeconds, maximumAge: config.jwksMaxAgeSeconds)
        try keys.load()
        state.withLock { $0 = Configured(config: config, metadata: metadata, client: client, keys: keys, introspector: introspector) }
    }

    private func configured() throws(ConnectorError) -> Configured {
        guard let configured = state.withLock({ $0 }) else { throw ConnectorError(Status.internalError, "the instance was not created") }
        return configured
    }

    // MARK: - Tokens

    func validateToken(_ borrowed: UnsafeBufferPointer<UInt8>) throws(ConnectorError) -> [UInt8] {
        guard !borrowed.isEmpty else { throw .denied("the token is empty") }
        guard borrowed.count <= 64 << 10 else { throw .denied("the token is longer than 64 KiB") }
        let token = Array(borrowed)
        let connector = try configured()
        let now = Self.now()
        if JWTValidator.looksLikeJWT(token) {
            let verified = try connector.validator.validate(token, purpose: .accessToken, now: now)
            let claims = verified.claims
            // The claims go out as the token's own (verified, parsed) payload, not written again.
            return JSONWriter.object(
                connector.mapping.mappedMembers(from: claims, expiresAt: claims.member("exp")?.numericDate),
                lastMember: "claims", rawJSON: verified.payload)
        }
        // userinfo would accept any token of the provider, whichever client it was issued to.
        guard let introspector = connector.introspector else {
            throw .denied("not a JWT, and opaque_tokens is \"reject\" (set opaque_tokens: introspect to check opaque tokens)")
        }
        let claims = try introspector.claims(for: token, now: now)
        return JSONWriter.bytes(connector.mapping.identity(from: claims, expiresAt: claims.member("exp")?.numericDate))
    }

    /// The identity behind an access token the connector itself just redeemed at the token
    /// endpoint (so it is bound to this client already), when the provider sent no id_token.
    private func userinfo(_ accessToken: String, connector: Configured) throws(ConnectorError) -> JSONValue {
        guard let endpoint = connector.metadata.userinfoEndpoint else {
            throw .denied("not a JWT, and the provider advertises no userinfo_endpoint to check an opaque token")
        }
        let (status, json) = try connector.client.getJSON(
            endpoint, headers: [HTTPHeader("Authorization", "Bearer \(accessToken)")], purpose: "userinfo")
        switch status {
        case 200..<300: break
        case 400, 401, 403: throw .denied("the provider's userinfo endpoint refused the token (HTTP \(status))")
        case 429, 500...: throw ConnectorError(Status.retry, "userinfo: HTTP \(status)")
        default: throw .denied("the provider's userinfo endpoint answered HTTP \(status)")
        }
        guard let json, let subject = json.member("sub")?.string, !subject.isEmpty else {
            throw .denied("the userinfo response has no sub")
        }
        return json
    }

    // MARK: - Login (authorization code + PKCE)

    func loginStart(_ request: JSONValue) throws(ConnectorError) -> [UInt8] {
        let connector = try configured()
        guard let endpoint = connector.metadata.authorizationEndpoint else {
            throw ConnectorError(Status.unsupported, "the provider advertises no authorization_endpoint")
        }
        guard let redirectURI = request.member("redirect_uri")?.string else {
            throw ConnectorError(Status.invalidArgument, "login_start: redirect_uri is required")
        }
        let state = try PKCE.randomToken()
        let nonce = try PKCE.randomToken()
        let verifier = try PKCE.randomToken()
        let scopes = requestedScopes(request, connector: connector)
        let query = FormEncoding.encode([
            ("response_type", "code"), ("client_id", connector.config.clientID), ("redirect_uri", redirectURI),
            ("scope", scopes), ("state", state), ("nonce", nonce),
            ("code_challenge", PKCE.challenge(for: verifier)), ("code_challenge_method", "S256"),
        ])
        let flowData = JSONWriter.bytes(.object([("state", .string(state)), ("nonce", .string(nonce)), ("verifier", .string(verifier))]))
        return JSONWriter.bytes(.object([
            ("authorization_url", .string(endpoint + (endpoint.contains("?") ? "&" : "?") + query)),
            ("state", .string(state)),
            ("flow_data", .string(Base64.encode(flowData, urlSafe: true))),
        ]))
    }

    func loginCallback(_ request: JSONValue) throws(ConnectorError) -> [UInt8] {
        let connector = try configured()
        guard let redirectURI = request.member("redirect_uri")?.string, let query = request.member("callback_query")?.string,
            let flowText = request.member("flow_data")?.string, let flowBytes = Base64.decode(flowText, .jose),
            let flow = try? JSONReader.parse(flowBytes), let expectedState = flow.member("state")?.string,
            let verifier = flow.member("verifier")?.string
        else { throw ConnectorError(Status.invalidArgument, "login_callback: redirect_uri, callback_query and flow_data are required") }
        let fields = Dictionary(FormEncoding.decode(query), uniquingKeysWith: { first, _ in first })
        if let error = fields["error"] {
            throw .denied("the provider refused the login: \(error)" + (fields["error_description"].map { " (\($0))" } ?? ""))
        }
        guard fields["state"] == expectedState else {
            throw .denied("the callback's state does not match the login request (a forged or stale redirect)")
        }
        guard let code = fields["code"], !code.isEmpty else { throw .denied("the callback carries no authorization code") }
        return try redeem(
            [("grant_type", "authorization_code"), ("code", code), ("redirect_uri", redirectURI), ("code_verifier", verifier)],
            nonce: flow.member("nonce")?.string, previousRefreshToken: nil, connector: connector)
    }

    func refresh(_ connectorData: [UInt8]) throws(ConnectorError) -> [UInt8] {
        let connector = try configured()
        guard let data = try? JSONReader.parse(connectorData), let refreshToken = data.member("refresh_token")?.string else {
            throw ConnectorError(Status.invalidArgument, "refresh: connector_data is not what this connector stored")
        }
        return try redeem(
            [("grant_type", "refresh_token"), ("refresh_token", refreshToken)], nonce: nil,
            previousRefreshToken: refreshToken, connector: connector)
    }

    // MARK: - Device authorization grant (RFC 8628)

    func deviceStart(_ request: JSONValue) throws(ConnectorError) -> [UInt8] {
        let connector = try configured()
        guard let endpoint = connector.metadata.deviceAuthorizationEndpoint else {
            throw ConnectorError(
                Status.unsupported, "the provider advertises no device_authorization_endpoint (it does not offer the device flow)")
        }
        var fields = [("scope", requestedScopes(request, connector: connector))]
        if connector.config.clientSecret == nil { fields.append(("client_id", connector.config.clientID)) }
        let (status, json) = try connector.client.postForm(endpoint, fields: fields, credentials: credentials(connector), purpose: "device authorization")
        guard (200..<300).contains(status), let json, let deviceCode = json.member("device_code")?.string,
            let userCode = json.member("user_code")?.string, let uri = json.member("verification_uri")?.string
        else { throw providerError(status, json, purpose: "device authorization") }
        let interval = json.member("interval")?.numericDate ?? 5
        let expiresAt = Self.now() + (json.member("expires_in")?.numericDate ?? 600)
        var out: [(key: String, value: JSONValue)] = [("user_code", .string(userCode)), ("verification_uri", .string(uri))]
        if let complete = json.member("verification_uri_complete")?.string { out.append(("verification_uri_complete", .string(complete))) }
        out.append(("interval", .integer(interval)))
        out.append(("expires_at", .integer(expiresAt)))
        out.append(("flow_data", .string(Base64.encode(JSONWriter.bytes(.object([("device_code", .string(deviceCode))])), urlSafe: true))))
        return JSONWriter.bytes(.object(out))
    }

    func devicePoll(_ request: JSONValue) throws(ConnectorError) -> [UInt8] {
        let connector = try configured()
        guard let flowText = request.member("flow_data")?.string, let flowBytes = Base64.decode(flowText, .jose),
            let flow = try? JSONReader.parse(flowBytes), let deviceCode = flow.member("device_code")?.string
        else { throw ConnectorError(Status.invalidArgument, "device_poll: flow_data is required") }
        return try redeem(
            [("grant_type", "urn:ietf:params:oauth:grant-type:device_code"), ("device_code", deviceCode)], nonce: nil,
            previousRefreshToken: nil, connector: connector)
    }

    // MARK: - Token endpoint

    private func credentials(_ connector: Configured) -> HTTPCredentials? {
        // client_secret_basic (RFC 6749 §2.3.1: both parts form-encoded first).
        connector.config.clientSecret.map {
            HTTPCredentials(user: FormEncoding.escape(connector.config.clientID), password: FormEncoding.escape($0))
        }
    }

    private func requestedScopes(_ request: JSONValue, connector: Configured) -> String {
        if case .array(let items)? = request.member("scopes"), !items.isEmpty {
            return items.compactMap(\.string).joined(separator: " ")
        }
        return connector.config.scopes.joined(separator: " ")
    }

    /// Calls the token endpoint and turns its answer into a session: the id_token (when given)
    /// is validated like any token, else the identity comes from userinfo.
    private func redeem(
        _ grant: [(String, String)], nonce: String?, previousRefreshToken: String?, connector: Configured
    ) throws(ConnectorError) -> [UInt8] {
        guard let endpoint = connector.metadata.tokenEndpoint else {
            throw ConnectorError(Status.unsupported, "the provider advertises no token_endpoint")
        }
        var fields = grant
        if connector.config.clientSecret == nil { fields.append(("client_id", connector.config.clientID)) }
        let (status, json) = try connector.client.postForm(endpoint, fields: fields, credentials: credentials(connector), purpose: "token request")
        guard (200..<300).contains(status), let json, let accessToken = json.member("access_token")?.string else {
            throw providerError(status, json, purpose: "token request")
        }
        let now = Self.now()
        let expiresAt = json.member("expires_in")?.numericDate.map { now + $0 }
        let claims: JSONValue
        let idToken = json.member("id_token")?.string
        if let idToken {
            claims = try connector.validator.validate(Array(idToken.utf8), purpose: .idToken(nonce: nonce), now: now).claims
        } else {
            claims = try userinfo(accessToken, connector: connector)
        }
        var session: [(key: String, value: JSONValue)] = [
            ("identity", connector.mapping.identity(from: claims, expiresAt: expiresAt)),
            ("access_token", .string(accessToken)),
            ("token_type", .string(json.member("token_type")?.string ?? "Bearer")),
        ]
        if let idToken { session.append(("id_token", .string(idToken))) }
        if let expiresAt { session.append(("expires_at", .integer(expiresAt))) }
        // Providers may rotate refresh tokens (a new one each time) or keep the old one.
        if let refreshToken = json.member("refresh_token")?.string ?? previousRefreshToken {
            session.append(("refresh_token", .string(refreshToken)))
            session.append(("connector_data", .string(String(decoding: JSONWriter.bytes(.object([("refresh_token", .string(refreshToken))])), as: UTF8.self))))
        }
        return JSONWriter.bytes(.object(session))
    }

    /// OAuth error responses (RFC 6749 §5.2, RFC 8628 §3.5) as statuses the host understands.
    private func providerError(_ status: Int, _ json: JSONValue?, purpose: String) -> ConnectorError {
        let code = json?.member("error")?.string
        let description = json?.member("error_description")?.string.map { " (\($0))" } ?? ""
        switch code {
        case "authorization_pending", "slow_down": return ConnectorError(Status.retry, code!)
        case "access_denied", "expired_token", "invalid_grant":
            return .denied("\(purpose): the provider answered \(code!)\(description)")
        case let code?: return ConnectorError(status >= 500 ? Status.retry : Status.accessDenied, "\(purpose): the provider answered \(code)\(description)")
        case nil:
            return ConnectorError(status >= 500 || status == 429 ? Status.retry : Status.accessDenied, "\(purpose): HTTP \(status) without an OAuth error")
        }
    }

    // MARK: - Errors

    /// Records `error` for last_error (per thread: the vtable is CONCURRENT) and counts denials.
    @discardableResult
    func fail(_ error: ConnectorError) -> Int32 {
        lastError.record(error.message)
        if error.status == Status.accessDenied { host.counterAdd("laforge_oidc_tokens_denied_total") }
        return error.status
    }
}
