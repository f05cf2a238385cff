import LaForgeCore

/// The `identity:` section: IdP connector plugin instances, how their groups and claims map to
/// roles (`claims_to_roles`), and what each role may do (`roles`). docs/IDENTITY.md is the
/// user's reference.
public struct IdentityConfig: Sendable {
    /// IdP connector plugin instances, in file order.
    public var connectors: [PluginInstanceConfig] = []
    /// The connector `laforge login` and token checks use when none is named; required when
    /// several are configured.
    public var defaultConnector: String?
    public var claimsToRoles: [ClaimRoleRule] = []
    public var roles: [RoleDefinition] = []

    public init() {}

    static let keys = ["connectors", "default_connector", "claims_to_roles", "roles"]

    static func decode(_ value: ConfigValue?) throws(ConfigError) -> IdentityConfig {
        guard let value else { return IdentityConfig() }
        let section = try value.mapping()
        try section.rejectUnknownKeys(keys)
        var identity = IdentityConfig()
        if let connectors = section.optional("connectors") {
            identity.connectors = try LaForgeConfig.decodePluginInstances(connectors, role: .idpConnector)
        }
        if let name = section.optional("default_connector") {
            let text = try name.nonEmptyString()
            let names = identity.connectors.map(\.name)
            guard names.contains(text) else {
                var message = "default_connector \(quotedForMessage(text)) is not one of identity.connectors"
                if let suggestion = closestMatch(to: text, in: names) { message += "; did you mean \(quotedForMessage(suggestion))?" }
                throw ConfigError(.invalidValue, at: name.mark, path: name.path, message)
            }
            identity.defaultConnector = text
        } else if identity.connectors.count > 1 {
            throw ConfigError(
                .missingKey, at: section.mark, path: section.path,
                "several IdP connectors are configured: name the one to use by default with default_connector")
        }
        if let rules = section.optional("claims_to_roles") {
            identity.claimsToRoles = try rules.sequence().map { item throws(ConfigError) in try ClaimRoleRule.decode(item) }
        }
        if let roles = section.optional("roles") {
            var seen: [String: SourceMark] = [:]
            for item in try roles.sequence() {
                let role = try RoleDefinition.decode(item)
                if let first = seen[role.name] {
                    throw ConfigError(
                        .duplicate, at: item.mark, path: item.path + ["name"],
                        "duplicate role \(quotedForMessage(role.name)) (first defined at \(first))", firstMark: first)
                }
                seen[role.name] = item.mark
                identity.roles.append(role)
            }
        }
        return identity
    }

    /// The connector to use: `name` when given, else the default, else the only one.
    public func connectorName(_ name: String?) -> String? {
        name ?? defaultConnector ?? (connectors.count == 1 ? connectors[0].name : nil)
    }
}

extension ConfigValue {
    /// A string, or a sequence of strings (`roles: admin` and `roles: [admin, auditor]`).
    func stringList() throws(ConfigError) -> [String] {
        if node.sequence != nil { return try sequence().map { item throws(ConfigError) in try item.nonEmptyString() } }
        return [try nonEmptyString()]
    }

    func regex() throws(ConfigError) -> Regex<AnyRegexOutput> {
        let text = try nonEmptyString()
        do { return try Regex(text) } catch {
            throw ConfigError(.invalidValue, at: mark, path: path, "not a valid regular expression: \(error)")
        }
    }
}
