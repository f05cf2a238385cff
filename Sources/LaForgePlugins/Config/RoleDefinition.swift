import LaForgeCore

/// A role from the `identity.roles` list: what its holders may (`allow`) and may not (`deny`)
/// do. A deny that matches wins over every allow (like AWS IAM and Teleport).
public struct RoleDefinition: Sendable {
    public var name: String
    public var allow: [PermissionRule]
    public var deny: [PermissionRule]

    static let keys = ["name", "allow", "deny"]

    static func decode(_ item: ConfigValue) throws(ConfigError) -> RoleDefinition {
        let entry = try item.mapping()
        try entry.rejectUnknownKeys(keys)
        let name = try entry.required("name").nonEmptyString()
        func rules(_ key: String) throws(ConfigError) -> [PermissionRule] {
            guard let list = entry.optional(key) else { return [] }
            return try list.sequence().map { rule throws(ConfigError) in try PermissionRule.decode(rule) }
        }
        return RoleDefinition(name: name, allow: try rules("allow"), deny: try rules("deny"))
    }
}

/// One permission: actions (`audit.read`, `audit.*`, `*`) on resources (`audit/default`,
/// `tenant/{tenant}/*`), when every condition on the principal's claims holds (ABAC).
/// `{tenant}`, `{org}` and `{subject}` in a resource pattern stand for the principal's own, so
/// one rule scopes every tenant to itself; a principal without a tenant never matches a
/// `{tenant}` pattern.
public struct PermissionRule: Sendable {
    public var actions: [String]
    public var resources: [String]
    public var conditions: [ClaimCondition]

    static let keys = ["actions", "resources", "conditions"]

    static func decode(_ item: ConfigValue) throws(ConfigError) -> PermissionRule {
        let entry = try item.mapping()
        try entry.rejectUnknownKeys(keys)
        let actions = try entry.required("actions").stringList()
        let resources = try entry.optional("resources")?.stringList() ?? ["*"]
        let conditions = try entry.optional("conditions")?.sequence().map { condition throws(ConfigError) in
            try ClaimCondition.decode(condition)
        } ?? []
        return PermissionRule(actions: actions, resources: resources, conditions: conditions)
    }
}

/// An ABAC condition on one claim (`tenant`, `email_verified`, `department`, `amr`...).
/// `tenant` and `org` name the principal's own fields; other names are token claims.
public struct ClaimCondition: @unchecked Sendable {
    // @unchecked: a compiled Regex is immutable.
    public enum Test {
        case equals(JSONValue)
        case isOneOf([JSONValue])
        case matches(Regex<AnyRegexOutput>)
        case present(Bool)
    }

    public var claim: String
    public var test: Test

    static let keys = ["claim", "equals", "in", "matches", "present"]

    static func decode(_ item: ConfigValue) throws(ConfigError) -> ClaimCondition {
        let entry = try item.mapping()
        try entry.rejectUnknownKeys(keys)
        let claim = try entry.required("claim").nonEmptyString()
        let given = ["equals", "in", "matches", "present"].filter { entry.contains($0) }
        guard given.count == 1 else {
            throw ConfigError(
                .invalidValue, at: entry.mark, path: entry.path,
                "give exactly one of equals, in, matches, present (found \(given.isEmpty ? "none" : given.joined(separator: ", ")))")
        }
        let test: Test
        switch given[0] {
        case "equals": test = .equals(try entry.required("equals").node.toJSON())
        case "in":
            guard case .array(let values) = try entry.required("in").node.toJSON() else {
                throw try entry.required("in").typeMismatch(expected: "sequence")
            }
            test = .isOneOf(values)
        case "matches": test = .matches(try entry.required("matches").regex())
        default: test = .present(try entry.required("present").bool())
        }
        return ClaimCondition(claim: claim, test: test)
    }
}
