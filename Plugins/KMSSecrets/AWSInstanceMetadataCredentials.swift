import HTTPClient

/// EC2 instance role through IMDSv2 only: PUT /latest/api/token (a session token with a TTL), then
/// GET the role name and the role's credentials with that token. IMDSv1 (no token) is not used:
/// it is what SSRF attacks reach. AWS_EC2_METADATA_DISABLED=true turns the source off.
struct AWSInstanceMetadataCredentials: AWSCredentialSource {
    let environment: Environment
    let endpoint: String?
    let http: HTTPClient
    var name: String { "imds" }

    func load() throws(KMSError) -> AWSCredentials? {
        if environment["AWS_EC2_METADATA_DISABLED"]?.lowercased() == "true" { return nil }
        var base = endpoint ?? environment["AWS_EC2_METADATA_SERVICE_ENDPOINT"] ?? "http://169.254.169.254"
        while base.hasSuffix("/") { base.removeLast() }
        let tokenResponse: HTTPResponse
        do {
            tokenResponse = try http.send(HTTPRequest(
                method: "PUT", url: base + "/latest/api/token", headers: [HTTPHeader("X-aws-ec2-metadata-token-ttl-seconds", "21600")]))
        } catch {
            // Not on EC2 (nothing answers): the end of the chain, reported by the chain itself.
            if error.kind == .connectionRefused || error.kind == .timeout || error.kind == .dns { return nil }
            throw KMSError(.transient, "imds: \(error.message)")
        }
        guard tokenResponse.status == 200 else {
            throw KMSError(.accessDenied, "imds: PUT /latest/api/token answered HTTP \(tokenResponse.status) (IMDSv2 required)")
        }
        let token = String(decoding: tokenResponse.body, as: UTF8.self).trimmingSpaces()
        let headers = [HTTPHeader("X-aws-ec2-metadata-token", token)]
        let roleResponse = try get(base + "/latest/meta-data/iam/security-credentials/", headers)
        guard let role = String(decoding: roleResponse, as: UTF8.self).split(whereSeparator: \.isNewline).first.map(String.init),
            !role.isEmpty
        else {
            throw KMSError(.accessDenied, "imds: the instance has no IAM role")
        }
        let document = try get(base + "/latest/meta-data/iam/security-credentials/" + role, headers)
        return try AWSCredentialDocument.parse(document, source: "imds (role \(role))")
    }

    private func get(_ url: String, _ headers: [HTTPHeader]) throws(KMSError) -> [UInt8] {
        let response: HTTPResponse
        do {
            response = try http.send(HTTPRequest(method: "GET", url: url, headers: headers))
        } catch {
            throw KMSError(.transient, "imds: \(error.message)")
        }
        guard response.status == 200 else {
            throw KMSError(
                response.status == 404 ? .accessDenied : .transient, "imds: GET \(HTTPRequest.displayURL(url)) answered HTTP \(response.status)")
        }
        return response.body
    }
}
