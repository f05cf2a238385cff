import HTTPClient
import OpenSSLCrypto

/// Google OAuth 2.0 access tokens for the `cloud-platform` scope, from a service-account key file
/// (RS256-signed JWT-bearer assertion to the file's `token_uri`, RFC 7523) or from the metadata
/// server (`Metadata-Flavor: Google`). Cached, refreshed before expiry.
final class GCPTokenSource: TokenSource {
    enum Origin {
        case serviceAccount(email: String, keyID: String?, signer: RSASHA256Signer, tokenURI: String)
        case metadata(base: String)
    }

    static let scope = "https://www.googleapis.com/auth/cloud-platform"

    let origin: Origin
    private let http: HTTPClient
    private var cached: AccessToken?

    init(config: KMSSecretsConfig, environment: Environment, http: HTTPClient, policy: EndpointPolicy) throws(KMSError) {
        self.http = http
        if let path = config.credentialsFile ?? environment["GOOGLE_APPLICATION_CREDENTIALS"] {
            origin = try Self.serviceAccount(path: path, tokenURIOverride: config.tokenURI, policy: policy)
        } else {
            var base = config.metadataEndpoint ?? environment["GCE_METADATA_HOST"].map { "http://\($0)" } ?? "http://169.254.169.254"
            while base.hasSuffix("/") { base.removeLast() }
            origin = .metadata(base: base)
        }
    }

    var description: String {
        switch origin {
        case .serviceAccount(let email, _, _, _): "service account \(email)"
        case .metadata(let base): "metadata server \(base)"
        }
    }

    func invalidate() { cached = nil }

    func token() throws(KMSError) -> String {
        if let cached, !cached.needsRefresh { return cached.value }
        let fresh: AccessToken
        switch origin {
        case .serviceAccount(let email, let keyID, let signer, let tokenURI):
            fresh = try exchangeAssertion(email: email, keyID: keyID, signer: signer, tokenURI: tokenURI)
        case .metadata(let base):
            fresh = try fetch(
                HTTPRequest(
                    method: "GET", url: base + "/computeMetadata/v1/instance/service-accounts/default/token",
                    headers: [HTTPHeader("Metadata-Flavor", "Google")]),
                what: "metadata server token")
        }
        cached = fresh
        return fresh.value
    }

    private static func serviceAccount(path: String, tokenURIOverride: String?, policy: EndpointPolicy) throws(KMSError) -> Origin {
        let bytes = try FileAccess.read(path)
        guard let document = try? JSONReader.parse(bytes) else { throw KMSError(.invalidConfig, "\(path): not a JSON key file") }
        guard document.string("type") == "service_account" else {
            throw KMSError(.invalidConfig, "\(path): type is not service_account (only service-account key files are supported)")
        }
        guard let email = document.string("client_email"), let pem = document.string("private_key") else {
            throw KMSError(.invalidConfig, "\(path): client_email or private_key is missing")
        }
        guard let tokenURI = tokenURIOverride ?? document.string("token_uri") else {
            throw KMSError(.invalidConfig, "\(path): token_uri is missing")
        }
        try policy.checked(ServiceEndpoint(url: tokenURI, origin: tokenURIOverride != nil ? "token_uri" : "\(path): token_uri"))
        do {
            var pemBytes = Array(pem.utf8)
            defer { sodium_wipe(&pemBytes) }
            let signer = try RSASHA256Signer(key: PEMPrivateKey(pem: pemBytes))
            return .serviceAccount(email: email, keyID: document.string("private_key_id"), signer: signer, tokenURI: tokenURI)
        } catch {
            throw KMSError(.invalidConfig, "\(path): private_key: \(error.message)")
        }
    }

    private func exchangeAssertion(email: String, keyID: String?, signer: RSASHA256Signer, tokenURI: String) throws(KMSError) -> AccessToken {
        let issuedAt = Int(Clock.now())
        var header = "{\"alg\":\"RS256\",\"typ\":\"JWT\""
        if let keyID { header += ",\"kid\":\(JSONText.string(keyID))" }
        header += "}"
        let claims = "{\"aud\":\(JSONText.string(tokenURI)),\"exp\":\(issuedAt + 3600),\"iat\":\(issuedAt),"
            + "\"iss\":\(JSONText.string(email)),\"scope\":\"\(Self.scope)\"}"
        let signingInput = Base64.encode(Array(header.utf8), urlSafe: true) + "." + Base64.encode(Array(claims.utf8), urlSafe: true)
        let signature: [UInt8]
        do {
            signature = try signer.sign(Array(signingInput.utf8))
        } catch {
            throw KMSError(.invalidConfig, "signing the service-account assertion: \(error.message)")
        }
        let assertion = signingInput + "." + Base64.encode(signature, urlSafe: true)
        let body = "grant_type=\(FormEncoding.encode("urn:ietf:params:oauth:grant-type:jwt-bearer"))&assertion=\(assertion)"
        return try fetch(
            HTTPRequest(
                method: "POST", url: tokenURI, headers: [HTTPHeader("Content-Type", "application/x-www-form-urlencoded")],
                body: Array(body.utf8)),
            what: "token for \(email)")
    }

    private func fetch(_ request: HTTPRequest, what: String) throws(KMSError) -> AccessToken {
        let response: HTTPResponse
        do {
            response = try http.send(request)
        } catch {
            throw KMSError(error.isTransient ? .transient : .refused, "gcp \(what): \(error.message)")
        }
        let document = try? JSONReader.parse(response.body)
        guard response.status == 200 else {
            // OAuth errors: {"error": "invalid_grant", "error_description": "..."}: no secrets in them.
            let code = document?.string("error") ?? "HTTP \(response.status)"
            let detail = document?.string("error_description").map { ": \($0)" } ?? ""
            throw KMSError(response.status >= 500 || response.status == 429 ? .transient : .accessDenied, "gcp \(what): \(code)\(detail)")
        }
        guard let token = document?.string("access_token"), !token.isEmpty else {
            throw KMSError(.badResponse, "gcp \(what): the answer has no access_token")
        }
        let lifetime = document?.member("expires_in")?.integerValue ?? 3600
        return AccessToken(value: token, expiresAt: Clock.now() + Double(lifetime))
    }
}
