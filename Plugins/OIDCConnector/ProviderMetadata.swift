/// The provider's endpoints from OpenID Connect Discovery 1.0
/// (`<issuer>/.well-known/openid-configuration`). The document's `issuer` must equal the
/// configured issuer exactly (Discovery §4.3), or a provider could speak for another.
struct ProviderMetadata {
    var issuer: String
    var jwksURI: String
    var authorizationEndpoint: String?
    var tokenEndpoint: String?
    var userinfoEndpoint: String?
    var deviceAuthorizationEndpoint: String?
    var introspectionEndpoint: String?

    /// Discovery, then every URL it names is held to the issuer's rule (`OIDCConfig.checkURL`):
    /// a document served over https must not send keys or tokens over plain http.
    static func discover(issuer: String, client: ProviderClient, development: Bool) throws(ConnectorError) -> ProviderMetadata {
        let base = issuer.hasSuffix("/") ? String(issuer.dropLast()) : issuer
        let url = base + "/.well-known/openid-configuration"
        let (status, json) = try client.getJSON(url, purpose: "OIDC discovery")
        guard (200..<300).contains(status) else {
            throw ConnectorError(
                status >= 500 || status == 429 ? Status.retry : Status.invalidArgument,
                "OIDC discovery: \(url) answered HTTP \(status)")
        }
        guard let json, let discovered = json.member("issuer")?.string else {
            throw ConnectorError(Status.invalidArgument, "OIDC discovery: \(url) is not a provider metadata document (no issuer)")
        }
        guard discovered == issuer else {
            throw ConnectorError(
                Status.invalidArgument,
                "OIDC discovery: the provider says its issuer is \"\(discovered)\", not the configured \"\(issuer)\" (they must be equal)")
        }
        guard let jwksURI = json.member("jwks_uri")?.string else {
            throw ConnectorError(Status.invalidArgument, "OIDC discovery: \(url) has no jwks_uri")
        }
        let metadata = ProviderMetadata(
            issuer: discovered, jwksURI: jwksURI,
            authorizationEndpoint: json.member("authorization_endpoint")?.string,
            tokenEndpoint: json.member("token_endpoint")?.string,
            userinfoEndpoint: json.member("userinfo_endpoint")?.string,
            deviceAuthorizationEndpoint: json.member("device_authorization_endpoint")?.string,
            introspectionEndpoint: json.member("introspection_endpoint")?.string)
        let named: [(String, String?)] = [
            ("jwks_uri", metadata.jwksURI), ("authorization_endpoint", metadata.authorizationEndpoint),
            ("token_endpoint", metadata.tokenEndpoint), ("userinfo_endpoint", metadata.userinfoEndpoint),
            ("device_authorization_endpoint", metadata.deviceAuthorizationEndpoint),
            ("introspection_endpoint", metadata.introspectionEndpoint),
        ]
        for case let (name, url?) in named {
            do { try OIDCConfig.checkURL(url, name, development: development) } catch {
                throw ConnectorError(Status.invalidArgument, "OIDC discovery: \(error.message)")
            }
        }
        return metadata
    }
}
