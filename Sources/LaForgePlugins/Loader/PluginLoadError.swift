/// Why a plugin could not be loaded or instantiated. Each message names the library (and the
/// configured instance when there is one) and says what the author or operator can do.
public struct PluginLoadError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable, Equatable {
        /// The library path is outside the plugin directory, missing, or not a file.
        case path
        /// dlopen failed: not an ELF shared object, missing dependency, wrong architecture.
        case notLoadable
        /// The library does not export `laforge_plugin_entry`.
        case noEntrySymbol
        /// The plugin refused this host, or the ABI versions are incompatible.
        case incompatible
        /// The descriptor or a vtable is malformed (too small, NULL required function, ...).
        case malformedDescriptor
        /// The plugin's own JSON Schema is invalid: a bug in the plugin, not in the user's config.
        case invalidPluginSchema
        /// The plugin lacks a capability the configuration asks of it.
        case missingCapability
        /// Signature missing or invalid in production mode.
        case signature
        /// The plugin's create() failed.
        case createFailed
    }

    public var kind: Kind
    public var library: String
    public var instance: String?
    public var message: String

    public init(_ kind: Kind, library: String, instance: String? = nil, _ message: String) {
        self.kind = kind
        self.library = library
        self.instance = instance
        self.message = message
    }

    public var description: String {
        if let instance {
            return "plugin \(instance) (\(library)): \(message)"
        }
        return "plugin \(library): \(message)"
    }
}
