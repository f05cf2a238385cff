/// One set of AWS credentials and where it came from. `description` never shows the secret
/// key or the session token.
struct AWSCredentials: CustomStringConvertible {
    var accessKeyID: String
    var secretAccessKey: String
    var sessionToken: String?
    /// Seconds since the epoch; nil for long-term keys.
    var expiration: Double?
    /// "environment", "shared file (profile prod)", "web identity", "container", "imds", "config".
    var source: String

    var description: String { "AWS credentials from \(source) (access key \(accessKeyID.prefix(4))…)" }
}

/// A link of the credential chain. `load` returns nil when this source is not set up here (the
/// chain moves on), and throws when it is set up but fails (the chain stops and says why, as the
/// AWS SDKs do: a broken profile must not silently fall through to the instance role).
protocol AWSCredentialSource {
    var name: String { get }
    func load() throws(KMSError) -> AWSCredentials?
}
