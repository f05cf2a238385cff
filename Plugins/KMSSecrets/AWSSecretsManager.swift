import CSodium
import HTTPClient

/// AWS Secrets Manager GetSecretValue. A name is `NAME` or an ARN, optionally followed by
/// `#STAGE` (`prod/db#AWSPREVIOUS`) or `#version:ID`; without one the configured version stage
/// (AWSCURRENT by default) is read. String and binary secrets are both returned as bytes.
final class AWSSecretsManager {
    let endpoint: String
    let region: String
    let credentials: AWSCredentialChain
    let transport: RetryingTransport
    let defaultStage: String

    init(endpoint: String, region: String, credentials: AWSCredentialChain, transport: RetryingTransport, defaultStage: String) {
        self.endpoint = endpoint
        self.region = region
        self.credentials = credentials
        self.transport = transport
        self.defaultStage = defaultStage
    }

    func getSecretValue(_ reference: String) throws(KMSError) -> SecretBytes {
        var name = reference
        var selector = ",\"VersionStage\":\(JSONText.string(defaultStage))"
        if let hash = reference.lastIndex(of: "#") {
            name = String(reference[..<hash])
            let version = String(reference[reference.index(after: hash)...])
            guard !version.isEmpty, !name.isEmpty else {
                throw KMSError(.invalidArgument, "aws secretsmanager: \(reference) is not NAME#STAGE or NAME#version:ID")
            }
            selector =
                version.hasPrefix("version:")
                ? ",\"VersionId\":\(JSONText.string(String(version.dropFirst(8))))"
                : ",\"VersionStage\":\(JSONText.string(version))"
        }
        guard !name.isEmpty else { throw KMSError(.invalidArgument, "aws secretsmanager: empty secret name") }
        let body = "{\"SecretId\":\(JSONText.string(name))\(selector)}"
        let response: HTTPResponse
        do {
            response = try transport.send(
                "aws secretsmanager GetSecretValue",
                build: { () throws(KMSError) -> HTTPRequest in
                    AWSSigV4Request.make(
                        endpoint: endpoint, region: region, service: "secretsmanager", target: "secretsmanager.GetSecretValue",
                        body: body, credentials: try credentials.current())
                },
                judge: AWSResponseJudge.judge, refresh: credentials.invalidate)
        } catch {
            throw error.prefixed("aws secretsmanager GetSecretValue (\(reference)): ")
        }
        var responseBody = response.body
        defer { sodium_wipe(&responseBody) }
        guard let document = try? JSONReader.parse(responseBody) else {
            throw KMSError(.badResponse, "aws secretsmanager GetSecretValue (\(reference)): the answer is not JSON")
        }
        if let text = document.string("SecretString") {
            var bytes = Array(text.utf8)
            return SecretBytes(consuming: &bytes)
        }
        if let encoded = document.string("SecretBinary"), var bytes = Base64.decode(encoded, .either) {
            return SecretBytes(consuming: &bytes)
        }
        throw KMSError(.badResponse, "aws secretsmanager GetSecretValue (\(reference)): the answer has neither SecretString nor SecretBinary")
    }
}
