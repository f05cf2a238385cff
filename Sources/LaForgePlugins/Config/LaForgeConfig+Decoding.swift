import Foundation
import LaForgeCore

extension LaForgeConfig {
    /// The top-level keys this version reads.
    public static var rootKeyNames: [String] { rootKeys }

    static let rootKeys = ["version", "mode", "state_dir", "plugin_dir", "trusted_keys", "secret_backends", "audit", "snapshots", "approvals", "identity", "serve"]

    /// Decodes an interpolated document. Checks run in the order a user fixes things: the version
    /// first (a newer file's keys would otherwise all look unknown), then the keys, then each
    /// section, then the rules that span sections (unique names, secret backends).
    init(document: YAMLNode, sourceName: String, baseDirectory: String) throws(ConfigError) {
        let root = try ConfigValue(node: document, path: []).mapping()

        let versionValue = try root.required("version")
        let version = try versionValue.int()
        guard version == Self.supportedVersion else {
            throw ConfigError(
                .invalidValue, at: versionValue.mark, path: versionValue.path,
                "unsupported version \(version); this laforge reads version \(Self.supportedVersion)")
        }
        try root.rejectUnknownKeys(Self.rootKeys)

        let modeValue = root.optional("mode")
        let mode = try modeValue?.oneOf(Mode.self) ?? .development
        let stateDir = try root.optional("state_dir")?.nonEmptyString() ?? Self.defaultStateDirectory
        let pluginDir = try root.optional("plugin_dir")?.nonEmptyString()

        let trustedKeys = try Self.decodeTrustedKeys(root.optional("trusted_keys"), baseDirectory: baseDirectory)
        if mode == .production, trustedKeys.isEmpty {
            throw ConfigError(
                .missingKey, at: root.optional("trusted_keys")?.mark ?? modeValue?.mark ?? root.mark,
                path: ["trusted_keys"], "production mode needs at least one trusted key to verify plugin signatures")
        }

        let secretBackends = try Self.decodeSecretBackends(root.optional("secret_backends"))
        var audit = try AuditConfig.decode(root.optional("audit"))

        var identity = try IdentityConfig.decode(root.optional("identity"))

        try Self.checkUniqueNames(secretBackends + identity.connectors + audit.sinks, in: document)
        audit.sinks = try audit.sinks.map { sink throws(ConfigError) in
            try Self.bindSecretReferences(of: sink, to: secretBackends)
        }
        identity.connectors = try identity.connectors.map { connector throws(ConfigError) in
            try Self.bindSecretReferences(of: connector, to: secretBackends)
        }

        self.init(
            sourcePath: sourceName, version: version, mode: mode, stateDir: stateDir, pluginDir: pluginDir,
            trustedKeys: trustedKeys, secretBackends: secretBackends, audit: audit, document: document)
        snapshots = try SnapshotSettings.decode(root.optional("snapshots"))
        approvals = try ApprovalPolicy.decode(root.optional("approvals"), baseDirectory: baseDirectory)
        self.identity = identity
        serve = try ServeConfig.decode(root.optional("serve"))
    }

    // MARK: - Sections

    static let pluginInstanceKeys = ["name", "library", "config"]

    /// A sequence of `{name, library, config}` mappings (`secret_backends`, `audit.sinks`).
    static func decodePluginInstances(_ value: ConfigValue, role: PluginInstanceConfig.Role) throws(ConfigError)
        -> [PluginInstanceConfig]
    {
        var instances: [PluginInstanceConfig] = []
        for item in try value.sequence() {
            let entry = try item.mapping()
            try entry.rejectUnknownKeys(pluginInstanceKeys)
            let nameValue = try entry.required("name")
            let name = try nameValue.string()
            guard PluginInstanceConfig.isValidName(name) else {
                throw ConfigError(
                    .invalidValue, at: nameValue.mark, path: nameValue.path,
                    "invalid instance name \(quotedForMessage(name)); use lowercase letters, digits, _ and -, starting with a letter or digit, at most \(PluginInstanceConfig.maximumNameLength) characters"
                )
            }
            let library = try entry.required("library").nonEmptyString()
            let config = entry.optional("config")
            if let config, config.node.mapping == nil {
                throw config.typeMismatch(expected: "mapping")
            }
            instances.append(
                PluginInstanceConfig(
                    role: role, name: name, library: library, config: config?.node, mark: item.mark, keyPath: item.path)
            )
        }
        return instances
    }

    /// Secret backends are loaded before any secret can be resolved, so their own settings cannot
    /// come from a secret.
    static func decodeSecretBackends(_ value: ConfigValue?) throws(ConfigError) -> [PluginInstanceConfig] {
        guard let value else { return [] }
        if let reference = value.node.secretReferences.first {
            throw ConfigError(
                .interpolation, at: reference.mark, path: reference.path,
                "secret backends cannot take their own config from a secret (\(reference))")
        }
        return try decodePluginInstances(value, role: .secretBackend)
    }

    static let trustedKeyKeys = ["name", "public_key", "public_key_file"]

    static func decodeTrustedKeys(_ value: ConfigValue?, baseDirectory: String) throws(ConfigError) -> [TrustedKey] {
        guard let value else { return [] }
        var keys: [TrustedKey] = []
        var firstMarks: [String: SourceMark] = [:]
        for item in try value.sequence() {
            let entry = try item.mapping()
            try entry.rejectUnknownKeys(trustedKeyKeys)
            let nameValue = try entry.required("name")
            let name = try nameValue.nonEmptyString()
            if let first = firstMarks[name] {
                throw ConfigError(
                    .duplicate, at: nameValue.mark, path: nameValue.path,
                    "duplicate trusted key name \(quotedForMessage(name)) (first defined at \(first))", firstMark: first
                )
            }
            firstMarks[name] = nameValue.mark

            let publicKey: [UInt8]
            switch (entry.optional("public_key"), entry.optional("public_key_file")) {
            case (let inline?, nil):
                publicKey = try decodePublicKey(base64: inline.string(), at: inline)
            case (nil, let file?):
                publicKey = try readPublicKeyFile(file, baseDirectory: baseDirectory)
            case (_?, let file?):
                throw ConfigError(
                    .invalidValue, at: file.mark, path: file.path, "give either public_key or public_key_file, not both"
                )
            case (nil, nil):
                throw ConfigError(
                    .missingKey, at: entry.mark, path: entry.path,
                    "missing required key \"public_key\" (or \"public_key_file\")")
            }
            keys.append(TrustedKey(name: name, publicKey: publicKey, mark: item.mark, keyPath: item.path))
        }
        return keys
    }

    /// A trusted key is written in any of the forms the tools produce: the verifier key text
    /// `laforge keys generate` writes to PATH.pub (`NAME+KEYID+BASE64`, C2SP signed-note), or the
    /// bare 32-byte key in base64; a file may also hold the 32 raw bytes.
    private static func decodePublicKey(base64 text: String, at value: ConfigValue) throws(ConfigError) -> [UInt8] {
        do {
            return try publicKey(fromText: text)
        } catch {
            throw ConfigError(.invalidValue, at: value.mark, path: value.path, error.message)
        }
    }

    private static func readPublicKeyFile(_ value: ConfigValue, baseDirectory: String) throws(ConfigError) -> [UInt8] {
        let path = try value.nonEmptyString()
        let resolved = path.hasPrefix("/") ? path : (baseDirectory as NSString).appendingPathComponent(path)
        let bytes: [UInt8]
        do {
            bytes = try readRegularFile(atPath: resolved, limit: 4096)
        } catch {
            throw ConfigError(.io, at: value.mark, path: value.path, "cannot read \(resolved): \(error.reason)")
        }
        // No text form of a key is 32 bytes long (its base64 alone is 44), so 32 bytes are raw.
        if bytes.count == TrustedKey.publicKeyLength { return bytes }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw ConfigError(
                .invalidValue, at: value.mark, path: value.path,
                "\(resolved) is neither text nor the \(TrustedKey.publicKeyLength) raw bytes of an Ed25519 public key")
        }
        do {
            return try publicKey(fromText: text)
        } catch {
            throw ConfigError(.invalidValue, at: value.mark, path: value.path, "\(resolved): \(error.message)")
        }
    }

    private static func publicKey(fromText text: String) throws(KeyFormatError) -> [UInt8] {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if let data = Data(base64Encoded: trimmed) {
            guard data.count == TrustedKey.publicKeyLength else {
                throw KeyFormatError(
                    "an Ed25519 public key is \(TrustedKey.publicKeyLength) bytes, this one decodes to \(data.count) (give the key, or the NAME+KEYID+BASE64 line `laforge keys generate` writes to PATH.pub)")
            }
            return Array(data)
        }
        guard trimmed.split(separator: "+", maxSplits: 2, omittingEmptySubsequences: false).count == 3 else {
            throw KeyFormatError(
                "not a public key: give the NAME+KEYID+BASE64 line `laforge keys generate` writes to PATH.pub, or the 32-byte key in base64")
        }
        return try Ed25519VerifierKey(parsing: trimmed).publicKey
    }

    // MARK: - Rules across sections

    /// Instance names are unique across every role: they name cursors, metrics and secret backends.
    static func checkUniqueNames(_ instances: [PluginInstanceConfig], in document: YAMLNode) throws(ConfigError) {
        func nameMark(_ instance: PluginInstanceConfig) -> SourceMark {
            document.node(at: instance.keyPath + ["name"])?.mark ?? instance.mark
        }
        var first: [String: PluginInstanceConfig] = [:]
        for instance in instances {
            if let earlier = first[instance.name] {
                let earlierMark = nameMark(earlier)
                throw ConfigError(
                    .duplicate, at: nameMark(instance), path: instance.keyPath + ["name"],
                    "duplicate instance name \(quotedForMessage(instance.name)) (first used by \(JSONPathComponent.render(earlier.keyPath)) at \(earlierMark))",
                    firstMark: earlierMark)
            }
            first[instance.name] = instance
        }
    }

    /// Gives every `${secret:NAME}` of a sink its backend (the only one configured) and checks that
    /// every named backend exists, so a typo fails at startup, not at the first resolution.
    static func bindSecretReferences(
        of instance: PluginInstanceConfig, to backends: [PluginInstanceConfig]
    ) throws(ConfigError) -> PluginInstanceConfig {
        guard let config = instance.config, !config.secretReferences.isEmpty else { return instance }
        let names = backends.map(\.name)
        var bound = instance
        bound.config = try config.mappingSecretReferences { reference throws(ConfigError) in
            var reference = reference
            guard let backend = reference.backend else {
                switch names.count {
                case 1:
                    reference.backend = names[0]
                    return reference
                case 0:
                    throw ConfigError(
                        .interpolation, at: reference.mark, path: reference.path,
                        "\(reference) needs a secret backend, and secret_backends configures none")
                default:
                    throw ConfigError(
                        .interpolation, at: reference.mark, path: reference.path,
                        "\(reference) is ambiguous: several secret backends are configured (\(names.joined(separator: ", "))); write ${secret:BACKEND/\(reference.name)}"
                    )
                }
            }
            guard names.contains(backend) else {
                var message = "\(reference) names an unknown secret backend \(quotedForMessage(backend))"
                if let suggestion = closestMatch(to: backend, in: names) {
                    message += "; did you mean \(quotedForMessage(suggestion))?"
                } else if names.isEmpty {
                    message += "; secret_backends configures none"
                } else {
                    message += "; configured: \(names.joined(separator: ", "))"
                }
                throw ConfigError(.interpolation, at: reference.mark, path: reference.path, message)
            }
            return reference
        }
        return bound
    }
}
