import LaForgePlugins

/// Why an identity operation failed, with a message a user can act on. Never carries a token.
public struct IdentityError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The token or login was refused (expired, bad signature, wrong audience, ...).
        case denied
        /// The provider could not be reached; trying again later may work.
        case unavailable
        /// No connector configured, or the named one does not exist / lacks the flow.
        case notConfigured
        /// Nobody is logged in (no cached session) or the session can no longer be renewed.
        case notLoggedIn
        /// The plugin returned something the ABI does not allow.
        case connectorContract
        /// Reading or writing the token cache failed.
        case io
        /// A secret was given where others can read it (a token as a command-line argument in
        /// production).
        case insecureInput
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }

    init(_ error: PluginCallError) {
        switch error.status {
        case .accessDenied?: self.init(.denied, error.message.isEmpty ? error.description : error.message)
        case .retry?: self.init(.unavailable, error.description)
        case .unsupported?: self.init(.notConfigured, error.description)
        default: self.init(.connectorContract, error.description)
        }
    }
}
