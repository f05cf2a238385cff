import Foundation

/// Which configuration is in force, and why (docs/CONFIG.md, "Which configuration is in force"):
/// the first of `--config PATH`, `$LAFORGE_CONFIG`, `/etc/laforge/laforge.yaml` (when it exists),
/// else the built-in default. Nothing is looked up relative to the working directory, so a
/// command means the same from any folder.
public struct ConfigLocation: Sendable, Equatable, CustomStringConvertible {
    public enum Origin: String, Sendable {
        case option = "--config"
        case environment = "$LAFORGE_CONFIG"
        case system = "/etc/laforge/laforge.yaml"
        case builtIn = "built-in default"
    }

    public static let systemPath = "/etc/laforge/laforge.yaml"

    public var origin: Origin
    /// The file, or nil for the built-in default.
    public var path: String?

    /// `option` is `--config`; an empty `$LAFORGE_CONFIG` counts as unset.
    public static func resolve(
        option: String?, environment: [String: String] = ProcessInfo.processInfo.environment,
        systemPath: String = systemPath
    ) -> ConfigLocation {
        if let option { return ConfigLocation(origin: .option, path: option) }
        if let fromEnvironment = environment["LAFORGE_CONFIG"], !fromEnvironment.isEmpty {
            return ConfigLocation(origin: .environment, path: fromEnvironment)
        }
        // An /etc file that exists but cannot be read is an error when loading, not skipped.
        if FileManager.default.fileExists(atPath: systemPath) { return ConfigLocation(origin: .system, path: systemPath) }
        return ConfigLocation(origin: .builtIn, path: nil)
    }

    /// Loads it: the file, or the built-in text (whose relative paths start at the working
    /// directory, as state_dir's always do).
    public func load(environment: [String: String] = ProcessInfo.processInfo.environment) throws(ConfigError) -> LaForgeConfig {
        guard let path else {
            return try LaForgeConfig.parse(
                text: EmbeddedDefaultConfiguration.text, sourceName: EmbeddedDefaultConfiguration.sourceName,
                baseDirectory: ".", environment: environment)
        }
        return try LaForgeConfig.load(path: path, environment: environment)
    }

    /// `FILE (from --config)`, `the built-in default`.
    public var description: String {
        guard let path else { return "the built-in default (config/laforge.yaml of this build)" }
        return origin == .system ? path : "\(path) (from \(origin.rawValue))"
    }
}
