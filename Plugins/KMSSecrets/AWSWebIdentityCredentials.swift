import HTTPClient

/// EKS IAM roles for service accounts: AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE exchanged at STS
/// (AssumeRoleWithWebIdentity, an unsigned call) for temporary credentials. The token file is
/// re-read at every refresh (the kubelet rotates it).
struct AWSWebIdentityCredentials: AWSCredentialSource {
    let environment: Environment
    let endpoint: String
    let http: HTTPClient
    var name: String { "web identity" }

    func load() throws(KMSError) -> AWSCredentials? {
        guard let tokenFile = environment["AWS_WEB_IDENTITY_TOKEN_FILE"] else { return nil }
        guard let roleARN = environment["AWS_ROLE_ARN"] else {
            throw KMSError(.invalidConfig, "AWS_WEB_IDENTITY_TOKEN_FILE is set but AWS_ROLE_ARN is not")
        }
        var token = String(decoding: try FileAccess.read(tokenFile), as: UTF8.self).trimmingSpaces()
        defer { token = "" }
        let session = environment["AWS_ROLE_SESSION_NAME"] ?? "laforge-kms-\(Int(Clock.now()))"
        let body = [
            ("Action", "AssumeRoleWithWebIdentity"), ("Version", "2011-06-15"), ("RoleArn", roleARN),
            ("RoleSessionName", session), ("WebIdentityToken", token),
        ].map { "\($0.0)=\(FormEncoding.encode($0.1))" }.joined(separator: "&")
        let request = HTTPRequest(
            method: "POST", url: endpoint, headers: [HTTPHeader("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")],
            body: Array(body.utf8))
        let response: HTTPResponse
        do {
            response = try http.send(request)
        } catch {
            throw KMSError(error.isTransient ? .transient : .refused, "web identity: STS AssumeRoleWithWebIdentity: \(error.message)")
        }
        let xml = String(decoding: response.body, as: UTF8.self)
        guard response.status == 200 else {
            let code = XMLText.first("Code", in: xml) ?? "HTTP \(response.status)"
            let message = XMLText.first("Message", in: xml) ?? ""
            let kind: KMSError.Kind = response.status >= 500 || code.contains("Throttl") ? .transient : .accessDenied
            throw KMSError(kind, "web identity: STS AssumeRoleWithWebIdentity for \(roleARN) failed: \(code) \(message)")
        }
        guard let key = XMLText.first("AccessKeyId", in: xml), let secret = XMLText.first("SecretAccessKey", in: xml),
            let sessionToken = XMLText.first("SessionToken", in: xml)
        else {
            throw KMSError(.badResponse, "web identity: STS answered without credentials")
        }
        return AWSCredentials(
            accessKeyID: key, secretAccessKey: secret, sessionToken: sessionToken,
            expiration: XMLText.first("Expiration", in: xml).flatMap(Clock.parseISO8601), source: "web identity (\(roleARN))")
    }
}

/// The few text elements read from STS's XML answers (no attributes, no nesting of the same name).
enum XMLText {
    static func first(_ element: String, in xml: String) -> String? {
        guard let open = xml.firstRange(of: "<\(element)>"), let close = xml[open.upperBound...].firstRange(of: "</\(element)>")
        else { return nil }
        return String(xml[open.upperBound..<close.lowerBound])
            .replacing("&lt;", with: "<").replacing("&gt;", with: ">").replacing("&quot;", with: "\"")
            .replacing("&apos;", with: "'").replacing("&amp;", with: "&")
    }
}

/// application/x-www-form-urlencoded values (RFC 3986 unreserved characters kept).
enum FormEncoding {
    static func encode(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let digits = Array("0123456789ABCDEF")
                out += "%\(digits[Int(byte >> 4)])\(digits[Int(byte & 15)])"
            }
        }
        return out
    }
}
