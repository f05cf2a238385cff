import LaForgeCore

/// A public key allowed to sign plugins (`trusted_keys:`).
public struct TrustedKey: Sendable, Hashable {
    /// Names the key in messages ("signed by release-2026").
    public var name: String
    /// The 32-byte Ed25519 public key.
    public var publicKey: [UInt8]
    public var mark: SourceMark
    /// For example `trusted_keys[0]`.
    public var keyPath: [JSONPathComponent]

    public static let publicKeyLength = 32

    public init(name: String, publicKey: [UInt8], mark: SourceMark, keyPath: [JSONPathComponent]) {
        self.name = name
        self.publicKey = publicKey
        self.mark = mark
        self.keyPath = keyPath
    }
}
