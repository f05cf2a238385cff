import HTTPClient

/// ECS task roles and EKS Pod Identity: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI (on
/// 169.254.170.2) or AWS_CONTAINER_CREDENTIALS_FULL_URI, with AWS_CONTAINER_AUTHORIZATION_TOKEN
/// or AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE as the Authorization header.
struct AWSContainerCredentials: AWSCredentialSource {
    let environment: Environment
    let http: HTTPClient
    var name: String { "container" }

    func load() throws(KMSError) -> AWSCredentials? {
        let url: String
        if let relative = environment["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"] {
            url = "http://169.254.170.2" + relative
        } else if let full = environment["AWS_CONTAINER_CREDENTIALS_FULL_URI"] {
            url = full
        } else {
            return nil
        }
        var headers: [HTTPHeader] = []
        if let file = environment["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"] {
            headers.append(HTTPHeader("Authorization", String(decoding: try FileAccess.read(file), as: UTF8.self).trimmingSpaces()))
        } else if let token = environment["AWS_CONTAINER_AUTHORIZATION_TOKEN"] {
            headers.append(HTTPHeader("Authorization", token))
        }
        let display = HTTPRequest.displayURL(url)
        let response: HTTPResponse
        do {
            response = try http.send(HTTPRequest(method: "GET", url: url, headers: headers))
        } catch {
            throw KMSError(error.isTransient ? .transient : .refused, "container credentials: \(error.message)")
        }
        guard response.status == 200 else {
            throw KMSError(
                response.status >= 500 ? .transient : .accessDenied, "container credentials at \(display): HTTP \(response.status)")
        }
        return try AWSCredentialDocument.parse(response.body, source: "container (\(display))")
    }
}

/// The JSON document container and instance endpoints serve:
/// `{"AccessKeyId","SecretAccessKey","Token","Expiration"}`.
enum AWSCredentialDocument {
    static func parse(_ body: [UInt8], source: String) throws(KMSError) -> AWSCredentials {
        guard let document = try? JSONReader.parse(body), let key = document.string("AccessKeyId"),
            let secret = document.string("SecretAccessKey")
        else {
            throw KMSError(.badResponse, "\(source): the answer is not a credentials document")
        }
        return AWSCredentials(
            accessKeyID: key, secretAccessKey: secret, sessionToken: document.string("Token"),
            expiration: document.string("Expiration").flatMap(Clock.parseISO8601), source: source)
    }
}
