import HTTPClient

/// Azure Key Vault REST: wrapkey/unwrapkey with RSA-OAEP-256 and secrets, at a pinned
/// `api-version`. Key Vault answers with the versioned key id (`kid`), which is kept so a
/// rotated key still unwraps what its older version wrapped.
final class AzureKeyVaultClient {
    let vaultURL: String
    let apiVersion: String
    let tokens: AzureTokenSource
    let transport: RetryingTransport

    init(vaultURL: String, apiVersion: String, tokens: AzureTokenSource, transport: RetryingTransport) {
        var url = vaultURL
        while url.hasSuffix("/") { url.removeLast() }
        self.vaultURL = url
        self.apiVersion = apiVersion
        self.tokens = tokens
        self.transport = transport
    }

    /// `name`, `name/version` or a key URL inside this vault → the key's URL.
    func keyURL(_ keyID: String) throws(KMSError) -> String {
        if keyID.hasPrefix("https://") || keyID.hasPrefix("http://") {
            try requireInVault(keyID)
            return keyID
        }
        let parts = keyID.split(separator: "/")
        guard (1...2).contains(parts.count), parts.allSatisfy({ $0.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" } }) else {
            throw KMSError(.invalidArgument, "azure keyvault: \(keyID) is not NAME, NAME/VERSION or a key URL")
        }
        return "\(vaultURL)/keys/\(keyID)"
    }

    /// Refuses URLs outside the configured vault: a ciphertext names its kid, and a forged one must
    /// not make the plugin send its bearer token to another host.
    func requireInVault(_ url: String) throws(KMSError) {
        guard url.hasPrefix(vaultURL + "/keys/"), !url.contains("?"), !url.contains("#"), !url.contains("..") else {
            throw KMSError(.invalidCiphertext, "azure keyvault: key \(HTTPRequest.displayURL(url)) is not in vault \(vaultURL)")
        }
    }

    /// Returns the versioned kid and the wrapped bytes.
    func wrapKey(keyURL: String, value: [UInt8]) throws(KMSError) -> (kid: String, wrapped: [UInt8]) {
        let answer = try post("wrapkey", keyURL: keyURL, value: value, unwrapping: false)
        guard let kid = answer.string("kid"), let text = answer.string("value"), let wrapped = Base64.decode(text, .either) else {
            throw KMSError(.badResponse, "azure keyvault wrapkey: the reply has no kid or value")
        }
        try requireInVault(kid)
        return (kid, wrapped)
    }

    func unwrapKey(kid: String, wrapped: [UInt8]) throws(KMSError) -> [UInt8] {
        try requireInVault(kid)
        let answer = try post("unwrapkey", keyURL: kid, value: wrapped, unwrapping: true)
        guard let text = answer.string("value"), let value = Base64.decode(text, .either) else {
            throw KMSError(.badResponse, "azure keyvault unwrapkey: the reply has no value")
        }
        return value
    }

    /// `name` or `name/version`.
    func getSecret(_ reference: String) throws(KMSError) -> SecretBytes {
        let parts = reference.split(separator: "/")
        guard (1...2).contains(parts.count), parts.allSatisfy({ $0.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" } }) else {
            throw KMSError(.invalidArgument, "azure keyvault: \(reference) is not a secret name (letters, digits and -) or NAME/VERSION")
        }
        let operation = "azure keyvault get secret \(reference)"
        let response = try transport.send(
            operation,
            build: { () throws(KMSError) -> HTTPRequest in
                HTTPRequest(
                    method: "GET", url: "\(vaultURL)/secrets/\(reference)?api-version=\(apiVersion)",
                    headers: [HTTPHeader("Authorization", "Bearer \(try tokens.token())")])
            },
            judge: { Self.judge($0, operation: operation, unwrapping: false) }, refresh: tokens.invalidate)
        var body = response.body
        defer { sodium_wipe(&body) }
        guard let value = (try? JSONReader.parse(body))?.string("value") else {
            throw KMSError(.badResponse, "\(operation): the reply has no value")
        }
        var bytes = Array(value.utf8)
        return SecretBytes(consuming: &bytes)
    }

    private func post(_ operation: String, keyURL: String, value: [UInt8], unwrapping: Bool) throws(KMSError) -> JSONValue {
        let display = "azure keyvault \(operation) (\(keyURL))"
        let body = "{\"alg\":\"RSA-OAEP-256\",\"value\":\"\(Base64.encode(value, urlSafe: true))\"}"
        let response = try transport.send(
            display,
            build: { () throws(KMSError) -> HTTPRequest in
                HTTPRequest(
                    method: "POST", url: "\(keyURL)/\(operation)?api-version=\(apiVersion)",
                    headers: [HTTPHeader("Authorization", "Bearer \(try tokens.token())"), HTTPHeader("Content-Type", "application/json")],
                    body: Array(body.utf8))
            },
            judge: { Self.judge($0, operation: display, unwrapping: unwrapping) }, refresh: tokens.invalidate)
        var responseBody = response.body
        defer { sodium_wipe(&responseBody) }
        guard let document = try? JSONReader.parse(responseBody) else { throw KMSError(.badResponse, "\(display): the reply is not JSON") }
        return document
    }

    /// Key Vault errors: `{"error": {"code": "KeyNotFound", "message": "…"}}`; 401 means the token
    /// expired or is missing, 429 is throttling (with Retry-After).
    static func judge(_ response: HTTPResponse, operation: String, unwrapping: Bool) -> ResponseVerdict {
        if (200..<300).contains(response.status) { return .success }
        let error = (try? JSONReader.parse(response.body))?.member("error")
        let code = error?.string("code") ?? "HTTP \(response.status)"
        let message = String((error?.string("message") ?? "").prefix(300).map { $0.isNewline ? " " : $0 })
        let text = "\(operation): \(code)" + (message.isEmpty ? "" : ": \(message)")
        switch response.status {
        case 401: return .refreshCredentials(text)
        case 403: return .fail(KMSError(.accessDenied, text))
        case 404: return .fail(KMSError(.notFound, text))
        case 429, 500...: return .retry(text)
        case 400 where unwrapping: return .fail(KMSError(.invalidCiphertext, text))
        case 400: return .fail(KMSError(.invalidArgument, text))
        default: return .fail(KMSError(.refused, text))
        }
    }
}
