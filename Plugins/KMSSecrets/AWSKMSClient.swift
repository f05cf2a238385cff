import CSodium
import HTTPClient

/// AWS KMS: Encrypt, Decrypt, GenerateDataKey, ReEncrypt (TrentService JSON 1.1 protocol), each
/// bound to an encryption context.
final class AWSKMSClient {
    let endpoint: String
    let region: String
    let credentials: AWSCredentialChain
    let transport: RetryingTransport

    init(endpoint: String, region: String, credentials: AWSCredentialChain, transport: RetryingTransport) {
        self.endpoint = endpoint
        self.region = region
        self.credentials = credentials
        self.transport = transport
    }

    func encrypt(keyID: String, plaintext: UnsafeRawBufferPointer, context: EncryptionContext) throws(KMSError) -> [UInt8] {
        var body = "{\"KeyId\":\(JSONText.string(keyID)),\"Plaintext\":\"\(Base64.encode(plaintext))\""
        if !context.isEmpty { body += ",\"EncryptionContext\":\(context.jsonObject)" }
        body += "}"
        let answer = try call("Encrypt", subject: "key \(keyID)", body: body)
        return try blob(answer, "CiphertextBlob", operation: "Encrypt")
    }

    func decrypt(keyID: String?, ciphertext: [UInt8], context: EncryptionContext) throws(KMSError) -> SecretBytes {
        var body = "{\"CiphertextBlob\":\"\(Base64.encode(ciphertext))\""
        // With KeyId, KMS refuses a ciphertext made under another key (defence against a swapped blob).
        if let keyID { body += ",\"KeyId\":\(JSONText.string(keyID))" }
        if !context.isEmpty { body += ",\"EncryptionContext\":\(context.jsonObject)" }
        body += "}"
        let answer = try call("Decrypt", subject: keyID.map { "key \($0)" } ?? "ciphertext", body: body)
        var plaintext = try blob(answer, "Plaintext", operation: "Decrypt")
        return SecretBytes(consuming: &plaintext)
    }

    func generateDataKey(keyID: String, length: Int, context: EncryptionContext) throws(KMSError) -> (SecretBytes, [UInt8]) {
        var body = "{\"KeyId\":\(JSONText.string(keyID)),\"NumberOfBytes\":\(length)"
        if !context.isEmpty { body += ",\"EncryptionContext\":\(context.jsonObject)" }
        body += "}"
        let answer = try call("GenerateDataKey", subject: "key \(keyID)", body: body)
        var plaintext = try blob(answer, "Plaintext", operation: "GenerateDataKey")
        let wrapped = try blob(answer, "CiphertextBlob", operation: "GenerateDataKey")
        return (SecretBytes(consuming: &plaintext), wrapped)
    }

    /// Re-wraps a ciphertext under another key or context without the plaintext leaving KMS
    /// (key rotation of stored wrapped keys).
    func reEncrypt(
        ciphertext: [UInt8], sourceContext: EncryptionContext, destinationKeyID: String, destinationContext: EncryptionContext
    ) throws(KMSError) -> [UInt8] {
        var body = "{\"CiphertextBlob\":\"\(Base64.encode(ciphertext))\",\"DestinationKeyId\":\(JSONText.string(destinationKeyID))"
        if !sourceContext.isEmpty { body += ",\"SourceEncryptionContext\":\(sourceContext.jsonObject)" }
        if !destinationContext.isEmpty { body += ",\"DestinationEncryptionContext\":\(destinationContext.jsonObject)" }
        body += "}"
        let answer = try call("ReEncrypt", subject: "key \(destinationKeyID)", body: body)
        return try blob(answer, "CiphertextBlob", operation: "ReEncrypt")
    }

    private func call(_ operation: String, subject: String, body: String) throws(KMSError) -> JSONValue {
        let prefix = "aws kms \(operation) (\(subject)): "
        do throws(KMSError) {
            let response = try transport.send(
                "aws kms \(operation)",
                build: { () throws(KMSError) -> HTTPRequest in
                    AWSSigV4Request.make(
                        endpoint: endpoint, region: region, service: "kms", target: "TrentService.\(operation)", body: body,
                        credentials: try credentials.current())
                },
                judge: AWSResponseJudge.judge, refresh: credentials.invalidate)
            var responseBody = response.body
            defer { sodium_wipe(&responseBody) }
            guard let document = try? JSONReader.parse(responseBody) else { throw KMSError(.badResponse, "the answer is not JSON") }
            return document
        } catch {
            throw error.prefixed(prefix)
        }
    }

    private func blob(_ answer: JSONValue, _ field: String, operation: String) throws(KMSError) -> [UInt8] {
        guard let text = answer.string(field), let bytes = Base64.decode(text, .either) else {
            throw KMSError(.badResponse, "aws kms \(operation): the answer has no base64 \(field)")
        }
        return bytes
    }
}

/// How an AWS answer is judged: 2xx success, throttling retried, expired token refreshed,
/// everything else mapped by error type.
enum AWSResponseJudge {
    static func judge(_ response: HTTPResponse) -> ResponseVerdict {
        if (200..<300).contains(response.status) { return .success }
        let error = AWSErrorResponse(response)
        if error.isThrottling || response.status == 429 || response.status >= 500 { return .retry(error.text) }
        if error.isExpiredToken { return .refreshCredentials(error.text) }
        return .fail(KMSError(error.kind, error.text))
    }
}
