import HTTPClient

/// The AWS SDKs' default credential chain: configured keys, environment, web identity (EKS IRSA),
/// shared credentials/config files, container credentials (ECS, EKS Pod Identity), then IMDSv2.
/// The first source that is set up wins; its credentials are cached and refreshed five minutes
/// before they expire (and at once after the service said they expired).
final class AWSCredentialChain {
    let sources: [any AWSCredentialSource]
    private var cached: AWSCredentials?
    /// Told where each fresh set of credentials came from (never the secret parts).
    var onLoad: (AWSCredentials) -> Void = { _ in }
    /// How long before expiry credentials are refreshed (the SDKs use 5 to 15 minutes).
    static let refreshWindowSeconds = 300.0

    init(sources: [any AWSCredentialSource]) { self.sources = sources }

    static func standard(
        config: KMSSecretsConfig, environment: Environment, region: String?, http: HTTPClient, policy: EndpointPolicy
    ) throws(KMSError) -> AWSCredentialChain {
        let order = config.credentialSources ?? ["config", "environment", "web_identity", "shared_file", "container", "imds"]
        var sources: [any AWSCredentialSource] = []
        for name in order {
            switch name {
            case "config":
                if let key = config.accessKeyID, let secret = config.secretAccessKey {
                    sources.append(AWSStaticCredentials(
                        credentials: AWSCredentials(
                            accessKeyID: key, secretAccessKey: secret, sessionToken: config.sessionToken, expiration: nil,
                            source: "config")))
                }
            case "environment": sources.append(AWSEnvironmentCredentials(environment: environment))
            case "web_identity":
                sources.append(AWSWebIdentityCredentials(
                    environment: environment,
                    endpoint: try policy.checked(AWSEndpoints.sts(config: config, environment: environment, region: region)),
                    http: http))
            case "shared_file": sources.append(AWSSharedCredentialsFile(environment: environment, profile: config.profile))
            case "container": sources.append(AWSContainerCredentials(environment: environment, http: http))
            case "imds": sources.append(AWSInstanceMetadataCredentials(environment: environment, endpoint: config.imdsEndpoint, http: http))
            default: throw KMSError.config("credential_sources: unknown source \(name)")
            }
        }
        return AWSCredentialChain(sources: sources)
    }

    func current() throws(KMSError) -> AWSCredentials {
        if let cached, !Self.needsRefresh(cached) { return cached }
        for source in sources {
            if let credentials = try source.load() {
                cached = credentials
                onLoad(credentials)
                return credentials
            }
        }
        throw KMSError(
            .accessDenied,
            "no AWS credentials found (tried \(sources.map(\.name).joined(separator: ", "))): set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, "
                + "a profile in ~/.aws/credentials, or run where a role is available")
    }

    /// Forget the cached credentials (the service said they expired).
    func invalidate() { cached = nil }

    static func needsRefresh(_ credentials: AWSCredentials) -> Bool {
        guard let expiration = credentials.expiration else { return false }
        return Clock.now() >= expiration - refreshWindowSeconds
    }
}

struct AWSStaticCredentials: AWSCredentialSource {
    let credentials: AWSCredentials
    var name: String { "config" }
    func load() throws(KMSError) -> AWSCredentials? { credentials }
}

/// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN (and the old AWS_SECURITY_TOKEN).
struct AWSEnvironmentCredentials: AWSCredentialSource {
    let environment: Environment
    var name: String { "environment" }

    func load() throws(KMSError) -> AWSCredentials? {
        let key = environment["AWS_ACCESS_KEY_ID"] ?? environment["AWS_ACCESS_KEY"]
        let secret = environment["AWS_SECRET_ACCESS_KEY"] ?? environment["AWS_SECRET_KEY"]
        guard let key else {
            if secret != nil { throw KMSError(.invalidConfig, "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not") }
            return nil
        }
        guard let secret else { throw KMSError(.invalidConfig, "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not") }
        return AWSCredentials(
            accessKeyID: key, secretAccessKey: secret,
            sessionToken: environment["AWS_SESSION_TOKEN"] ?? environment["AWS_SECURITY_TOKEN"], expiration: nil,
            source: "environment")
    }
}
