import HTTPClient

/// An AWS JSON-protocol request (KMS, Secrets Manager) signed with Signature V4 by libcurl
/// (`CURLOPT_AWS_SIGV4 = "aws:amz:REGION:SERVICE"`). libcurl adds X-Amz-Date and the
/// Authorization header; it does not add session tokens, so X-Amz-Security-Token is set here and
/// signed with the rest. No empty header is ever sent (Debian's curl 7.88 signs an empty header it
/// then drops, which breaks the signature).
enum AWSSigV4Request {
    static func make(
        endpoint: String, region: String, service: String, target: String, body: String, credentials: AWSCredentials
    ) -> HTTPRequest {
        var headers = [
            HTTPHeader("Content-Type", "application/x-amz-json-1.1"),
            HTTPHeader("X-Amz-Target", target),
        ]
        if let token = credentials.sessionToken, !token.isEmpty {
            headers.append(HTTPHeader("X-Amz-Security-Token", token))
        }
        var url = endpoint
        // SigV4 signs the path; the service root is "/".
        if !url.dropFirst(8).contains("/") { url += "/" }
        return HTTPRequest(
            method: "POST", url: url, headers: headers, body: Array(body.utf8), awsSigV4: "aws:amz:\(region):\(service)",
            credentials: HTTPCredentials(user: credentials.accessKeyID, password: credentials.secretAccessKey))
    }
}

/// AWS JSON-protocol errors: `{"__type": "ns#Code", "message"|"Message": …}`. Dispatch is on the
/// type, not the HTTP status (moto and AWS differ on statuses).
struct AWSErrorResponse {
    var code: String
    var message: String
    var status: Int

    init(_ response: HTTPResponse) {
        status = response.status
        let document = try? JSONReader.parse(response.body)
        // Authentication failures may come as the query protocol's XML (<Error><Code>…).
        let xml = document == nil ? String(decoding: response.body.prefix(4096), as: UTF8.self) : ""
        var code = document?.string("__type") ?? response.header("x-amzn-ErrorType") ?? XMLText.first("Code", in: xml)
            ?? "HTTP \(response.status)"
        if let hash = code.lastIndex(of: "#") { code = String(code[code.index(after: hash)...]) }
        if let colon = code.firstIndex(of: ":") { code = String(code[..<colon]) }
        self.code = code
        let text = document?.string("message") ?? document?.string("Message") ?? XMLText.first("Message", in: xml) ?? ""
        // Provider messages never hold key material, but keep them short and on one line.
        message = String(text.prefix(300).map { $0.isNewline ? " " : $0 })
    }

    var isThrottling: Bool {
        ["ThrottlingException", "Throttling", "TooManyRequestsException", "RequestLimitExceeded", "LimitExceededException",
         "KMSInternalException", "InternalFailure", "InternalServiceError", "ServiceUnavailable", "DependencyTimeoutException"]
            .contains(code)
    }

    var isExpiredToken: Bool { ["ExpiredTokenException", "ExpiredToken", "RequestExpired"].contains(code) }

    var kind: KMSError.Kind {
        switch code {
        case "NotFoundException", "ResourceNotFoundException": .notFound
        case "AccessDeniedException", "AccessDenied", "UnrecognizedClientException", "InvalidSignatureException",
            "IncompleteSignature", "InvalidClientTokenId", "SignatureDoesNotMatch", "MissingAuthenticationToken",
            "ExpiredTokenException", "ExpiredToken":
            .accessDenied
        case "InvalidCiphertextException", "IncorrectKeyException", "InvalidGrantTokenException": .invalidCiphertext
        case "ValidationException", "InvalidParameterException", "InvalidRequestException", "SerializationException",
            "InvalidParameterValueException":
            .invalidArgument
        default: isThrottling ? .transient : status == 401 || status == 403 ? .accessDenied : .refused
        }
    }

    var text: String { message.isEmpty ? code : "\(code): \(message)" }
}
