import LaForgeCore

/// Why a field could not be sealed or opened. Messages name the backend, key, tenant and field,
/// never a plaintext or a key.
public struct EnvelopeError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The context is unusable (no tenant, reserved key).
        case invalidContext
        /// Not an envelope ciphertext, an unknown version, or truncated.
        case malformedCiphertext
        /// The ciphertext was sealed for another tenant, field or context.
        case wrongContext
        /// The AEAD tag does not verify: the ciphertext was altered (or the data key is not its own).
        case tampered
        /// The secret backend failed (not found, access denied, unreachable…): `status` says which.
        case backend(PluginStatus)
        /// The backend offers no key operations.
        case unsupported
        /// No secret backend of that name (or none, or several when none was named).
        case unknownBackend
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}
