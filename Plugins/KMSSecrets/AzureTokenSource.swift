import HTTPClient

/// Microsoft Entra ID tokens for Key Vault (`https://vault.azure.net`): client credentials
/// (tenant, client id, client secret — from the configuration or AZURE_TENANT_ID,
/// AZURE_CLIENT_ID, AZURE_CLIENT_SECRET) or managed identity (App Service's IDENTITY_ENDPOINT +
/// IDENTITY_HEADER, else the VM's IMDS with `Metadata: true`). Cached, refreshed before expiry.
final class AzureTokenSource: TokenSource {
    enum Origin {
        case clientCredentials(tokenURL: String, clientID: String, secret: String)
        case appService(endpoint: String, header: String, clientID: String?)
        case imds(base: String, clientID: String?)
    }

    static let resource = "https://vault.azure.net"

    let origin: Origin
    private let http: HTTPClient
    private var cached: AccessToken?

    init(config: KMSSecretsConfig, environment: Environment, http: HTTPClient, policy: EndpointPolicy) throws(KMSError) {
        self.http = http
        let clientID = config.clientID ?? environment["AZURE_CLIENT_ID"]
        let authorityEndpoint = config.authorityHost.map { ServiceEndpoint(url: $0, origin: "authority_host") }
            ?? environment["AZURE_AUTHORITY_HOST"].map { ServiceEndpoint(url: $0, origin: "AZURE_AUTHORITY_HOST") }
            ?? ServiceEndpoint(url: "https://login.microsoftonline.com", origin: "the Entra ID default authority")
        var authority = authorityEndpoint.url
        while authority.hasSuffix("/") { authority.removeLast() }
        if let secret = config.clientSecret ?? environment["AZURE_CLIENT_SECRET"],
            let tenant = config.tenantID ?? environment["AZURE_TENANT_ID"], let clientID
        {
            try policy.checked(authorityEndpoint)
            origin = .clientCredentials(tokenURL: "\(authority)/\(tenant)/oauth2/v2.0/token", clientID: clientID, secret: secret)
        } else if config.managedIdentityEndpoint == nil, let endpoint = environment["IDENTITY_ENDPOINT"],
            let header = environment["IDENTITY_HEADER"]
        {
            origin = .appService(endpoint: endpoint, header: header, clientID: clientID)
        } else {
            var base = config.managedIdentityEndpoint ?? config.metadataEndpoint ?? "http://169.254.169.254"
            while base.hasSuffix("/") { base.removeLast() }
            origin = .imds(base: base, clientID: clientID)
        }
    }

    func invalidate() { cached = nil }

    func token() throws(KMSError) -> String {
        if let cached, !cached.needsRefresh { return cached.value }
        let request: HTTPRequest
        let what: String
        switch origin {
        case .clientCredentials(let tokenURL, let clientID, let secret):
            let body = [
                ("grant_type", "client_credentials"), ("client_id", clientID), ("client_secret", secret),
                ("scope", Self.resource + "/.default"),
            ].map { "\($0.0)=\(FormEncoding.encode($0.1))" }.joined(separator: "&")
            request = HTTPRequest(
                method: "POST", url: tokenURL, headers: [HTTPHeader("Content-Type", "application/x-www-form-urlencoded")],
                body: Array(body.utf8))
            what = "client credentials token for \(clientID)"
        case .appService(let endpoint, let header, let clientID):
            let query = "api-version=2019-08-01&resource=\(FormEncoding.encode(Self.resource))"
                + (clientID.map { "&client_id=\(FormEncoding.encode($0))" } ?? "")
            request = HTTPRequest(method: "GET", url: "\(endpoint)?\(query)", headers: [HTTPHeader("X-IDENTITY-HEADER", header)])
            what = "managed identity token (App Service)"
        case .imds(let base, let clientID):
            let query = "api-version=2018-02-01&resource=\(FormEncoding.encode(Self.resource))"
                + (clientID.map { "&client_id=\(FormEncoding.encode($0))" } ?? "")
            request = HTTPRequest(
                method: "GET", url: "\(base)/metadata/identity/oauth2/token?\(query)", headers: [HTTPHeader("Metadata", "true")])
            what = "managed identity token (IMDS)"
        }
        let response: HTTPResponse
        do {
            response = try http.send(request)
        } catch {
            throw KMSError(error.isTransient ? .transient : .refused, "azure \(what): \(error.message)")
        }
        let document = try? JSONReader.parse(response.body)
        guard response.status == 200 else {
            // Entra errors: {"error": "invalid_client", "error_description": "AADSTS7000215: ..."}.
            let code = document?.string("error") ?? "HTTP \(response.status)"
            let detail = document?.string("error_description").map { ": \($0.prefix(200))" } ?? ""
            throw KMSError(response.status >= 500 || response.status == 429 ? .transient : .accessDenied, "azure \(what): \(code)\(detail)")
        }
        guard let token = document?.string("access_token"), !token.isEmpty else {
            throw KMSError(.badResponse, "azure \(what): the answer has no access_token")
        }
        // expires_in is a number from Entra and a string from IMDS.
        let lifetime = document?.member("expires_in")?.integerValue ?? 3600
        let fresh = AccessToken(value: token, expiresAt: Clock.now() + Double(lifetime))
        cached = fresh
        return fresh.value
    }
}
