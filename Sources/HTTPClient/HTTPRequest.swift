/// One HTTP request. Header values and credentials may be secret: the client never logs or
/// formats them into errors (only header names and the URL appear in messages).
public struct HTTPRequest: Sendable {
    public var method: String
    public var url: String
    public var headers: [HTTPHeader]
    public var body: [UInt8]
    /// libcurl's AWS Signature V4 parameter, `"aws:amz:REGION:SERVICE"` (always give both region
    /// and service); the access key and secret go in `credentials`. For KMS-style callers.
    public var awsSigV4: String?
    /// User and password for HTTP basic authentication, or the AWS key pair with `awsSigV4`.
    public var credentials: HTTPCredentials?

    public init(
        method: String, url: String, headers: [HTTPHeader] = [], body: [UInt8] = [], awsSigV4: String? = nil,
        credentials: HTTPCredentials? = nil
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.awsSigV4 = awsSigV4
        self.credentials = credentials
    }

    /// `url` without user info, query or fragment: those may carry credentials and must not
    /// reach a message or a log line.
    public static func displayURL(_ url: String) -> String {
        var characters = Array(url)
        if let cut = characters.firstIndex(where: { $0 == "?" || $0 == "#" }) { characters.removeSubrange(cut...) }
        guard let colon = characters.firstIndex(of: ":"), characters.count > colon + 2,
            characters[colon + 1] == "/", characters[colon + 2] == "/"
        else { return String(characters) }
        let authorityStart = colon + 3
        let authorityEnd = characters[authorityStart...].firstIndex(of: "/") ?? characters.count
        if let at = characters[authorityStart..<authorityEnd].lastIndex(of: "@") {
            characters.removeSubrange(authorityStart...at)
        }
        return String(characters)
    }
}

public struct HTTPHeader: Sendable, Equatable {
    public var name: String
    public var value: String

    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }

    /// Headers whose values are credentials: never shown (Authorization, API keys, tokens, cookies).
    public var isSensitive: Bool {
        let lowered = name.lowercased()
        return lowered == "authorization" || lowered == "proxy-authorization" || lowered == "cookie"
            || lowered.contains("token") || lowered.contains("api-key") || lowered.contains("apikey")
            || lowered.contains("secret") || lowered.contains("signature")
    }
}

/// A user/password pair (basic auth, or an AWS access key id and secret key for SigV4).
public struct HTTPCredentials: Sendable {
    public var user: String
    public var password: String

    public init(user: String, password: String) {
        self.user = user
        self.password = password
    }
}
