import LaForgeCore

/// One configured instance of a plugin: a secret backend or an audit sink.
public struct PluginInstanceConfig: Sendable, Hashable {
    public enum Role: String, Sendable, Hashable {
        case secretBackend = "secret backend"
        case auditSink = "audit sink"
        case idpConnector = "IdP connector"
    }

    public var role: Role
    /// Unique across all instances of every role; matches `[a-z0-9][a-z0-9_-]*`, at most 64
    /// characters. It names the instance in logs, metrics, cursors and `${secret:NAME/…}`.
    public var name: String
    /// As written: a file name the loader looks up in the plugin directory, or an absolute path.
    public var library: String
    /// The `config:` subtree with its marks, nil when absent or empty. It may still hold
    /// `${secret:…}` references (audit sinks only); each has its backend filled in.
    public var config: YAMLNode?
    /// Where the instance's mapping starts.
    public var mark: SourceMark
    /// Where the instance is in the document, for example `audit.sinks[0]`.
    public var keyPath: [JSONPathComponent]

    public init(
        role: Role, name: String, library: String, config: YAMLNode?, mark: SourceMark, keyPath: [JSONPathComponent]
    ) {
        self.role = role
        self.name = name
        self.library = library
        self.config = config
        self.mark = mark
        self.keyPath = keyPath
    }

    /// The plugin's config as JSON; an absent `config:` is an empty object, which the plugin's
    /// schema then fills with defaults.
    public var configJSON: JSONValue {
        config?.toJSON() ?? .object([:])
    }

    public static let maximumNameLength = 64

    /// `[a-z0-9][a-z0-9_-]*`, at most `maximumNameLength` characters: safe in file names (cursor
    /// files are named after instances), metric labels and `${secret:NAME/…}`.
    public static func isValidName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, name.unicodeScalars.count <= maximumNameLength,
            first != "_", first != "-"
        else { return false }
        return name.unicodeScalars.allSatisfy { scalar in
            switch scalar {
            case "a"..."z", "0"..."9", "_", "-": true
            default: false
            }
        }
    }
}

extension PluginInstanceConfig.Role {
    /// The plugin capability an instance of this role is created through.
    public var capability: PluginCapability {
        switch self {
        case .secretBackend: return .secretBackend
        case .auditSink: return .auditSink
        case .idpConnector: return .idpConnector
        }
    }
}
