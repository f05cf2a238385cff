/// A failure inside the backend, carried to the ABI edge as a status code and the text
/// `last_error` returns. Messages name the provider, the operation, the key or secret name and
/// the provider's error code, never a secret value, a token or a credential.
struct KMSError: PluginFailure {
    enum Kind {
        /// The configuration cannot work (missing field, unreadable credentials file).
        case invalidConfig
        /// A malformed argument (bad name, context that is not a JSON object of strings).
        case invalidArgument
        case notFound
        /// Rejected credentials or missing permission (also: signature mismatch, expired token
        /// that a refresh did not cure).
        case accessDenied
        /// Throttled or unavailable after the plugin's own bounded retries: the caller may try later.
        case transient
        /// The ciphertext is corrupt, or was made under another key or context.
        case invalidCiphertext
        /// The provider answered something that breaks its own contract (bad JSON, CRC mismatch).
        case badResponse
        /// Anything the provider refused for good (disabled key, wrong key usage).
        case refused
        case unsupported
    }

    var kind: Kind
    var message: String

    init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    var status: Int32 {
        switch kind {
        case .invalidConfig, .invalidArgument: Status.invalidArgument
        case .notFound: Status.notFound
        case .accessDenied: Status.accessDenied
        case .transient: Status.retry
        case .invalidCiphertext, .refused: Status.permanentError
        case .badResponse: Status.retry
        case .unsupported: Status.unsupported
        }
    }

    static func invalidArgument(_ message: String) -> KMSError { KMSError(.invalidArgument, message) }

    static func config(_ message: String) -> KMSError { KMSError(.invalidConfig, "invalid KMSSecrets configuration: \(message)") }

    /// The same failure with `prefix` ("aws kms Encrypt (key alias/app): ") in front.
    func prefixed(_ prefix: String) -> KMSError { KMSError(kind, prefix + message) }
}
