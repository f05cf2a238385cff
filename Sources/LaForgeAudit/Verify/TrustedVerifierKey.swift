import LaForgeCore

/// A checkpoint verifier key a verifier trusts, and where it came from — `verify chain` reports
/// both, so an auditor sees what the verdict rests on.
public struct TrustedVerifierKey: Sendable, Equatable {
    public var key: Ed25519VerifierKey
    /// `audit.checkpoints.verifier_keys[0] in laforge.yaml`, `--key PATH`, or (development only)
    /// `the signer's key in the state directory (PATH)`.
    public var source: String
    /// True for a key pinned by the configuration or the command line; false for one read from
    /// next to the key file, which whoever controls that directory can replace.
    public var isPinned: Bool

    public init(key: Ed25519VerifierKey, source: String, isPinned: Bool) {
        self.key = key
        self.source = source
        self.isPinned = isPinned
    }

    public func jsonValue() -> JSONValue {
        .object(["key": .string(key.description), "source": .string(source), "pinned": .bool(isPinned)])
    }
}
