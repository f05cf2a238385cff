import HTTPClient

/// Google Secret Manager `versions/…:access`. A name is `SECRET` (version `latest` of the
/// configured project), `SECRET#VERSION`, or a full `projects/P/secrets/S[/versions/V]`. The
/// payload's `dataCrc32c` is checked when the reply carries it.
final class GCPSecretManager {
    let endpoint: String
    let project: String?
    let tokens: GCPTokenSource
    let transport: RetryingTransport

    init(endpoint: String, project: String?, tokens: GCPTokenSource, transport: RetryingTransport) {
        self.endpoint = endpoint
        self.project = project
        self.tokens = tokens
        self.transport = transport
    }

    func access(_ reference: String) throws(KMSError) -> SecretBytes {
        let path = try versionPath(reference)
        let operation = "gcp secretmanager access (\(path))"
        let response = try transport.send(
            operation,
            build: { () throws(KMSError) -> HTTPRequest in
                HTTPRequest(method: "GET", url: "\(endpoint)/v1/\(path):access", headers: [HTTPHeader("Authorization", "Bearer \(try tokens.token())")])
            },
            judge: { GoogleErrorResponse.judge($0, decrypting: false, operation: operation) }, refresh: tokens.invalidate)
        var body = response.body
        defer { sodium_wipe(&body) }
        guard let payload = (try? JSONReader.parse(body))?.member("payload") else {
            throw KMSError(.badResponse, "\(operation): the reply has no payload")
        }
        var data = payload.string("data").flatMap { Base64.decode($0, .either) } ?? []
        if let checksum = payload.member("dataCrc32c")?.integerValue, UInt32(exactly: checksum) != CRC32C.checksum(data) {
            sodium_wipe(&data)
            throw KMSError(.badResponse, "\(operation): payload CRC32C mismatch (the reply was corrupted in transit)")
        }
        return SecretBytes(consuming: &data)
    }

    private func versionPath(_ reference: String) throws(KMSError) -> String {
        let allowed = { (character: Character) in character.isLetter || character.isNumber || "-_/#".contains(character) }
        guard !reference.isEmpty, reference.allSatisfy(allowed) else {
            throw KMSError(.invalidArgument, "gcp secretmanager: \(reference) is not a secret name (letters, digits, - and _)")
        }
        if reference.hasPrefix("projects/") {
            return reference.contains("/versions/") ? reference : reference + "/versions/latest"
        }
        guard let project else {
            throw KMSError(.invalidArgument, "gcp secretmanager: \(reference) is a short name but the configuration has no project")
        }
        var name = reference
        var version = "latest"
        if let hash = reference.lastIndex(of: "#") {
            name = String(reference[..<hash])
            version = String(reference[reference.index(after: hash)...])
        }
        return "projects/\(project)/secrets/\(name)/versions/\(version)"
    }
}
