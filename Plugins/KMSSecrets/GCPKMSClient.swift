import HTTPClient

/// Google Cloud KMS encrypt/decrypt (REST v1) with additional authenticated data and CRC32C
/// integrity fields both ways: the request carries the checksums of what it sends, the reply must
/// say it verified them (`verified*Crc32c`), and the checksums in the reply are checked here.
final class GCPKMSClient {
    let endpoint: String
    let tokens: GCPTokenSource
    let transport: RetryingTransport

    init(endpoint: String, tokens: GCPTokenSource, transport: RetryingTransport) {
        self.endpoint = endpoint
        self.tokens = tokens
        self.transport = transport
    }

    /// Returns the ciphertext and the key version that made it.
    func encrypt(key: String, plaintext: UnsafeRawBufferPointer, aad: [UInt8]) throws(KMSError) -> [UInt8] {
        let operation = "gcp kms encrypt (\(key))"
        var body = "{\"plaintext\":\"\(Base64.encode(plaintext))\",\"plaintextCrc32c\":\"\(CRC32C.checksum(plaintext))\""
        if !aad.isEmpty {
            body += ",\"additionalAuthenticatedData\":\"\(Base64.encode(aad))\",\"additionalAuthenticatedDataCrc32c\":\"\(CRC32C.checksum(aad))\""
        }
        body += "}"
        let answer = try post(operation, url: "\(endpoint)/v1/\(key):encrypt", body: body, decrypting: false)
        guard answer.member("verifiedPlaintextCrc32c")?.boolValue == true else {
            throw KMSError(.badResponse, "\(operation): the reply does not confirm the plaintext checksum (verifiedPlaintextCrc32c)")
        }
        if !aad.isEmpty, answer.member("verifiedAdditionalAuthenticatedDataCrc32c")?.boolValue != true {
            throw KMSError(.badResponse, "\(operation): the reply does not confirm the AAD checksum (verifiedAdditionalAuthenticatedDataCrc32c)")
        }
        guard let text = answer.string("ciphertext"), let ciphertext = Base64.decode(text, .either) else {
            throw KMSError(.badResponse, "\(operation): the reply has no base64 ciphertext")
        }
        guard let checksum = answer.member("ciphertextCrc32c")?.integerValue, UInt32(exactly: checksum) == CRC32C.checksum(ciphertext) else {
            throw KMSError(.badResponse, "\(operation): ciphertext CRC32C mismatch (the reply was corrupted in transit)")
        }
        return ciphertext
    }

    func decrypt(key: String, ciphertext: [UInt8], aad: [UInt8]) throws(KMSError) -> SecretBytes {
        let operation = "gcp kms decrypt (\(key))"
        var body = "{\"ciphertext\":\"\(Base64.encode(ciphertext))\",\"ciphertextCrc32c\":\"\(CRC32C.checksum(ciphertext))\""
        if !aad.isEmpty {
            body += ",\"additionalAuthenticatedData\":\"\(Base64.encode(aad))\",\"additionalAuthenticatedDataCrc32c\":\"\(CRC32C.checksum(aad))\""
        }
        body += "}"
        let answer = try post(operation, url: "\(endpoint)/v1/\(key):decrypt", body: body, decrypting: true)
        guard let text = answer.string("plaintext"), var plaintext = Base64.decode(text, .either) else {
            // An empty plaintext is omitted from proto3 JSON.
            if answer.member("plaintext") == nil, answer.member("plaintextCrc32c")?.integerValue == 0 {
                var empty: [UInt8] = []
                return SecretBytes(consuming: &empty)
            }
            throw KMSError(.badResponse, "\(operation): the reply has no base64 plaintext")
        }
        guard let checksum = answer.member("plaintextCrc32c")?.integerValue, UInt32(exactly: checksum) == CRC32C.checksum(plaintext) else {
            sodium_wipe(&plaintext)
            throw KMSError(.badResponse, "\(operation): plaintext CRC32C mismatch (the reply was corrupted in transit)")
        }
        return SecretBytes(consuming: &plaintext)
    }

    private func post(_ operation: String, url: String, body: String, decrypting: Bool) throws(KMSError) -> JSONValue {
        let response = try transport.send(
            operation,
            build: { () throws(KMSError) -> HTTPRequest in
                HTTPRequest(
                    method: "POST", url: url,
                    headers: [HTTPHeader("Authorization", "Bearer \(try tokens.token())"), HTTPHeader("Content-Type", "application/json")],
                    body: Array(body.utf8))
            },
            judge: { GoogleErrorResponse.judge($0, decrypting: decrypting, operation: operation) }, refresh: tokens.invalidate)
        var responseBody = response.body
        defer { sodium_wipe(&responseBody) }
        guard let document = try? JSONReader.parse(responseBody) else { throw KMSError(.badResponse, "\(operation): the reply is not JSON") }
        return document
    }
}

/// Google API errors: `{"error": {"code": 404, "message": "…", "status": "NOT_FOUND"}}`.
enum GoogleErrorResponse {
    static func judge(_ response: HTTPResponse, decrypting: Bool, operation: String) -> ResponseVerdict {
        if (200..<300).contains(response.status) { return .success }
        let error = (try? JSONReader.parse(response.body))?.member("error")
        let status = error?.string("status") ?? "HTTP \(response.status)"
        let message = String((error?.string("message") ?? "").prefix(300).map { $0.isNewline ? " " : $0 })
        let text = "\(operation): \(status)" + (message.isEmpty ? "" : ": \(message)")
        switch status {
        case "UNAUTHENTICATED": return .refreshCredentials(text)
        case "RESOURCE_EXHAUSTED", "UNAVAILABLE", "INTERNAL", "DEADLINE_EXCEEDED", "ABORTED": return .retry(text)
        case "NOT_FOUND": return .fail(KMSError(.notFound, text))
        case "PERMISSION_DENIED": return .fail(KMSError(.accessDenied, text))
        // Cloud KMS answers a wrong AAD or a foreign ciphertext with INVALID_ARGUMENT.
        case "INVALID_ARGUMENT": return .fail(KMSError(decrypting ? .invalidCiphertext : .invalidArgument, text))
        default:
            if response.status == 401 { return .refreshCredentials(text) }
            if response.status == 429 || response.status >= 500 { return .retry(text) }
            return .fail(KMSError(.refused, text))
        }
    }
}
