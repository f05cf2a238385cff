import LaForgeCore

/// One way a configuration value fails its plugin's schema, phrased for the user who wrote
/// the configuration.
public struct SchemaViolation: Sendable, Hashable, CustomStringConvertible {
    /// Where in the validated value the problem is. For `required` this is the object that
    /// lacks the key (the key itself does not exist); for an unknown key it is the key.
    public let instancePath: [JSONPathComponent]
    /// The schema keyword that failed (`type`, `required`, `additionalProperties`, …), for
    /// tools and tests; users read `message`.
    public let keyword: String
    /// A complete sentence fragment such as `expected integer, got string "abc"`. Never
    /// contains the value of a property marked `x-laforge-secret`.
    public let message: String

    public init(instancePath: [JSONPathComponent], keyword: String, message: String) {
        self.instancePath = instancePath
        self.keyword = keyword
        self.message = message
    }

    /// The path as a user writes it: `a.b[2].c`; empty for the validated value itself.
    public var pathString: String { JSONPathComponent.render(instancePath) }

    public var description: String {
        let path = pathString
        return path.isEmpty ? message : "\(path): \(message)"
    }
}
