import LaForgeCore

/// The `snapshots:` section: the key that signs snapshots (and provenance envelopes) and the
/// retired keys earlier snapshots still verify under. docs/SNAPSHOTS.md describes the chain.
public struct SnapshotSettings: Sendable {
    /// The signing key file (`laforge keys generate`); default `<state_dir>/keys/snapshot`,
    /// generated on first use in development mode, required in production mode.
    public var keyFile: String?
    /// Verifier keys (`NAME+KEYID+BASE64`) of retired snapshot keys: snapshots they signed keep
    /// verifying after a rotation, and nothing else they sign is trusted.
    public var verifierKeys: [Ed25519VerifierKey] = []

    public init() {}

    static let keys = ["key_file", "verifier_keys"]

    static func decode(_ value: ConfigValue?) throws(ConfigError) -> SnapshotSettings {
        var settings = SnapshotSettings()
        guard let value else { return settings }
        let section = try value.mapping()
        try section.rejectUnknownKeys(keys)
        if let keyFile = section.optional("key_file") { settings.keyFile = try keyFile.nonEmptyString() }
        if let keys = section.optional("verifier_keys") {
            settings.verifierKeys = try keys.sequence().map { key throws(ConfigError) in try key.verifierKey() }
        }
        return settings
    }
}

extension ConfigValue {
    /// A C2SP verifier key (`NAME+KEYID+BASE64`, the content of a `.pub` file).
    func verifierKey() throws(ConfigError) -> Ed25519VerifierKey {
        let text = try nonEmptyString()
        do throws(KeyFormatError) { return try Ed25519VerifierKey(parsing: text) } catch {
            throw ConfigError(.invalidValue, at: mark, path: path, error.message)
        }
    }
}
