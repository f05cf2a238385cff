import LaForgeCore

/// One `claims_to_roles` rule (Teleport's shape): when the claim `claim` has a value equal to
/// `value` — or, when `value` is written `^…$`, matching it as a regular expression — the
/// principal gets `roles`, in which `$1`, `$2`… are the expression's captures. `tenants`, when
/// given, limits the rule to principals of those tenants (per-tenant role grants).
///
/// The claim `groups` means the connector's groups after its own filter and prefix; any other
/// name is looked up in the token's claims (dots walk into objects: `realm_access.roles`).
public struct ClaimRoleRule: Sendable {
    public enum Match: @unchecked Sendable {
        // @unchecked: a compiled Regex is immutable.
        case exact(String)
        case pattern(Regex<AnyRegexOutput>, source: String)
    }

    public var claim: String
    public var match: Match
    public var roles: [String]
    public var tenants: [String]?
    public var mark: SourceMark?

    static let keys = ["claim", "value", "roles", "tenants"]

    static func decode(_ item: ConfigValue) throws(ConfigError) -> ClaimRoleRule {
        let entry = try item.mapping()
        try entry.rejectUnknownKeys(keys)
        let claim = try entry.required("claim").nonEmptyString()
        let valueNode = try entry.required("value")
        let text = try valueNode.nonEmptyString()
        let match: Match
        if text.hasPrefix("^") && text.hasSuffix("$") {
            match = .pattern(try valueNode.regex(), source: text)
        } else {
            match = .exact(text)
        }
        let rolesNode = try entry.required("roles")
        let roles = try rolesNode.stringList()
        if case .exact = match, let templated = roles.first(where: { $0.contains("$") }) {
            throw ConfigError(
                .invalidValue, at: rolesNode.mark, path: rolesNode.path,
                "role \(quotedForMessage(templated)) uses a capture, but value is not a ^…$ regular expression")
        }
        let tenants = try entry.optional("tenants")?.stringList()
        return ClaimRoleRule(claim: claim, match: match, roles: roles, tenants: tenants, mark: item.mark)
    }

    /// The roles this rule grants for one claim value (empty when it does not match).
    package func roles(for value: String) -> [String] {
        switch match {
        case .exact(let expected):
            return value == expected ? roles : []
        case .pattern(let regex, _):
            guard let found = try? regex.wholeMatch(in: value) else { return [] }
            return roles.compactMap { template in
                var role = template
                // Highest index first so $1 does not eat the start of $10.
                for index in stride(from: found.output.count - 1, through: 1, by: -1) {
                    let capture = found.output[index].substring.map(String.init) ?? ""
                    role = role.replacingOccurrences(of: "$\(index)", with: capture)
                }
                return role.isEmpty ? nil : role
            }
        }
    }
}

extension String {
    fileprivate func replacingOccurrences(of target: String, with replacement: String) -> String {
        guard !target.isEmpty else { return self }
        var result = ""
        var rest = self[...]
        while let range = rest.firstRange(of: target) {
            result += rest[..<range.lowerBound]
            result += replacement
            rest = rest[range.upperBound...]
        }
        return result + rest
    }
}
