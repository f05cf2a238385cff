/// Why the host could not start from a configuration: the CLI maps each case to its own exit
/// code (docs/CLI.md).
public enum RuntimeStartError: Error, CustomStringConvertible, Sendable {
    /// The configuration, or a plugin's `config:` against the plugin's schema, is wrong: the
    /// user's to fix. Every violation is listed, each with file:line:column.
    case config([ConfigError])
    /// A plugin could not be loaded or created: the plugin's (or its installation's) to fix.
    case plugin(PluginLoadError)

    public var description: String {
        switch self {
        case .config(let errors): return errors.map(\.description).joined(separator: "\n")
        case .plugin(let error): return error.description
        }
    }
}
