import Foundation

/// The runtime's configuration (`config/laforge.yaml`), typed and checked, with the source mark of
/// every plugin instance so later phases (loading, schema validation) can report errors at the
/// line the user wrote. docs/CONFIG.md is the user's reference for every key.
///
/// Decoding does everything that needs no plugin: YAML, interpolation of `${env:}` and
/// `${file:}`, types, unknown and missing keys, names. Each plugin's `config:` subtree is kept as a
/// `YAMLNode`, still holding its `${secret:…}` references, for the loader to resolve
/// (`YAMLNode.resolvingSecrets`) and validate against the plugin's schema.
public struct LaForgeConfig: Sendable {
    public enum Mode: String, Sendable, CaseIterable {
        /// Unsigned plugins load, with a warning.
        case development
        /// Every plugin must carry a valid signature from one of `trustedKeys`.
        case production
    }

    /// The only `version:` this build understands.
    public static let supportedVersion = 1
    public static let defaultStateDirectory = ".laforge"
    /// Larger files are refused before parsing.
    static let maximumFileSize = 4 << 20

    /// The file name as given to `load` (or `sourceName` given to `parse`).
    public var sourcePath: String
    public var version: Int
    public var mode: Mode
    /// Where the journal, checkpoints and cursors live. Relative paths are relative to the current
    /// working directory (not to the configuration file), like the CLI's `--state-dir` that
    /// overrides it.
    public var stateDir: String
    /// Where relative plugin `library:` names are looked up, as written. The loader decides the
    /// effective directory: `--plugin-dir`, then `LAFORGE_PLUGIN_DIR`, then this, then the running
    /// executable's folder.
    public var pluginDir: String?
    /// Keys allowed to sign plugins; non-empty in production mode.
    public var trustedKeys: [TrustedKey]
    /// Secret-backend plugin instances, in file order. They never hold `${secret:…}` references.
    public var secretBackends: [PluginInstanceConfig]
    public var audit: AuditConfig
    /// `snapshots:`: the snapshot signing key and retired keys (docs/SNAPSHOTS.md).
    public var snapshots = SnapshotSettings()
    /// `approvals:`: when a snapshot counts as approved (docs/SNAPSHOTS.md).
    public var approvals = ApprovalPolicy()
    /// The `identity:` section (IdP connectors, claims_to_roles, roles).
    public var identity = IdentityConfig()
    /// The `serve:` section (`laforge serve`: socket, limits, clients).
    public var serve = ServeConfig()
    /// The whole document after interpolation, for tools that show the effective configuration
    /// (`toJSON()` shows resolved secrets as `<redacted>`).
    public var document: YAMLNode

    /// The audit sink plugin instances, in file order.
    public var sinks: [PluginInstanceConfig] {
        get { audit.sinks }
        set { audit.sinks = newValue }
    }

    /// Every plugin instance: secret backends first, since sinks and connectors may need their
    /// secrets.
    public var pluginInstances: [PluginInstanceConfig] { secretBackends + identity.connectors + sinks }

    /// Reads and decodes the configuration file at `path`. `${file:}` and `public_key_file` paths
    /// are relative to the file's folder; `environment` feeds `${env:}`.
    public static func load(
        path: String, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(ConfigError) -> LaForgeConfig {
        let bytes: [UInt8]
        do {
            bytes = try readRegularFile(atPath: path, limit: maximumFileSize)
        } catch {
            throw ConfigError(
                kind: .io, file: path, mark: nil, message: "cannot read the configuration file: \(error.reason)")
        }
        let folder = (path as NSString).deletingLastPathComponent
        return try decode(
            bytes: bytes, sourceName: path, baseDirectory: folder.isEmpty ? "." : folder, environment: environment)
    }

    /// Decodes configuration text; `sourceName` is the file name errors show and `baseDirectory`
    /// the folder relative `${file:}` and `public_key_file` paths start from.
    public static func parse(
        text: String, sourceName: String, baseDirectory: String = ".",
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(ConfigError) -> LaForgeConfig {
        try decode(
            bytes: Array(text.utf8), sourceName: sourceName, baseDirectory: baseDirectory, environment: environment)
    }

    private static func decode(
        bytes: [UInt8], sourceName: String, baseDirectory: String, environment: [String: String]
    ) throws(ConfigError) -> LaForgeConfig {
        let parsed = try YAMLParser.parse(bytes: bytes, sourceName: sourceName)
        let interpolator = Interpolator(environment: environment, baseDirectory: baseDirectory)
        let document = try interpolator.interpolate(parsed)
        return try LaForgeConfig(document: document, sourceName: sourceName, baseDirectory: baseDirectory)
    }
}
