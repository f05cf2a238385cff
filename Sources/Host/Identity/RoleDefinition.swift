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

    /// Nil when the rule applies, else why not (the first reason found).
    func applies(to principal: Principal, action: String, resource: String) -> Bool {
        guard actions.contains(where: { GlobPattern.matches($0, action) }) else { return false }
        guard resources.contains(where: { pattern in
            guard let concrete = Self.substitute(pattern, principal) else { return false }
            return GlobPattern.matches(concrete, resource)
        }) else { return false }
        return conditions.allSatisfy { $0.holds(for: principal) }
    }

    static func substitute(_ pattern: String, _ principal: Principal) -> String? {
        var result = pattern
        for (placeholder, value) in [("{tenant}", principal.tenant), ("{org}", principal.org), ("{subject}", Optional(principal.subject))]
        where result.contains(placeholder) {
            // A value with a wildcard or separator could widen the pattern: refuse it.
            guard let value, !value.isEmpty, !value.contains("*"), !value.contains("/") else { return nil }
            result = result.split(separator: placeholder, omittingEmptySubsequences: false).joined(separator: value)
        }
        return result
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

    func holds(for principal: Principal) -> Bool {
        let value: JSONValue?
        switch claim {
        case "tenant": value = principal.tenant.map(JSONValue.string)
        case "org": value = principal.org.map(JSONValue.string)
        case "subject": value = .string(principal.subject)
        default: value = ClaimPath.lookup(claim, in: principal.claims)
        }
        switch test {
        case .present(let expected): return (value != nil) == expected
        case .equals(let expected):
            guard let value else { return false }
            return JSONCanonicalizer.canonicalize(value) == JSONCanonicalizer.canonicalize(expected)
        case .isOneOf(let options):
            guard let value else { return false }
            let bytes = JSONCanonicalizer.canonicalize(value)
            return options.contains { JSONCanonicalizer.canonicalize($0) == bytes }
        case .matches(let regex):
            guard let text = value.flatMap(ClaimPath.text) else { return false }
            return (try? regex.wholeMatch(in: text)) != nil
        }
    }
}

/// `*` matches any run of characters (also none); everything else matches itself.
enum GlobPattern {
    static func matches(_ pattern: String, _ text: String) -> Bool {
        let p = Array(pattern.utf8)
        let t = Array(text.utf8)
        var pi = 0, ti = 0, star = -1, mark = 0
        while ti < t.count {
            if pi < p.count, p[pi] == UInt8(ascii: "*") {
                star = pi
                mark = ti
                pi += 1
            } else if pi < p.count, p[pi] == t[ti] {
                pi += 1
                ti += 1
            } else if star >= 0 {
                pi = star + 1
                mark += 1
                ti = mark
            } else {
                return false
            }
        }
        while pi < p.count, p[pi] == UInt8(ascii: "*") { pi += 1 }
        return pi == p.count
    }
}
