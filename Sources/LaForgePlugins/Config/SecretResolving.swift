import LaForgeCore

/// Resolves a secret reference ("BACKEND/NAME", or "NAME" when one backend is configured).
/// Implemented by the runtime over the configured secret-backend plugins; used for
/// `${secret:…}` in the configuration and for the plugins' `resolve_secret` host call.
public protocol SecretResolving: Sendable {
    func resolveSecret(_ reference: String) throws(SecretResolutionError) -> SecretValue
}

public struct SecretResolutionError: Error, CustomStringConvertible, Sendable {
    public var reference: String
    /// Maps onto the ABI status handed back to a plugin that asked.
    public var status: PluginStatus
    public var message: String

    public init(reference: String, status: PluginStatus, message: String) {
        self.reference = reference
        self.status = status
        self.message = message
    }

    public var description: String { "secret \(reference): \(message)" }
}
