import LaForgeCore
import LaForgePlugins

/// Maps a connector's identity object (laforge_plugin.h) to a `Principal` by applying every
/// `claims_to_roles` rule in order; roles are deduplicated in first-granted order.
public struct RoleMapping: Sendable {
    public var rules: [ClaimRoleRule]

    public init(rules: [ClaimRoleRule]) { self.rules = rules }

    public func principal(from identity: JSONValue, connector: String) throws(IdentityError) -> Principal {
        guard let subject = identity["subject"]?.stringValue, !subject.isEmpty else {
            throw IdentityError(.connectorContract, "connector \(connector) returned an identity without a subject")
        }
        let claims = identity["claims"] ?? .object([:])
        let groups = identity["groups"]?.arrayValue?.compactMap(\.stringValue) ?? []
        var principal = Principal(
            subject: subject, roles: [], tenant: identity["tenant"]?.stringValue, org: identity["org"]?.stringValue,
            claims: claims, username: identity["username"]?.stringValue, email: identity["email"]?.stringValue,
            groups: groups, issuer: identity["issuer"]?.stringValue ?? "", connector: connector,
            expiresAt: identity["expires_at"]?.intValue.map(Int64.init))
        principal.roles = roles(claims: claims, groups: groups, tenant: principal.tenant)
        return principal
    }

    func roles(claims: JSONValue, groups: [String], tenant: String?) -> [String] {
        var granted: [String] = []
        for rule in rules {
            if let tenants = rule.tenants {
                guard let tenant, tenants.contains(tenant) else { continue }
            }
            for value in Self.values(of: rule.claim, claims: claims, groups: groups) {
                for role in rule.roles(for: value) where !granted.contains(role) {
                    granted.append(role)
                }
            }
        }
        return granted
    }

    /// A claim's values as strings: an array's string elements, a scalar's text.
    static func values(of claim: String, claims: JSONValue, groups: [String]) -> [String] {
        if claim == "groups" { return groups }
        guard let value = ClaimPath.lookup(claim, in: claims) else { return [] }
        switch value {
        case .array(let items): return items.compactMap(ClaimPath.text)
        default: return ClaimPath.text(value).map { [$0] } ?? []
        }
    }
}

/// Claim lookup shared by role mapping and ABAC conditions.
enum ClaimPath {
    /// A key containing dots is matched whole first (URL-like claim names), then as a path.
    static func lookup(_ path: String, in claims: JSONValue) -> JSONValue? {
        if let direct = claims[path] { return direct }
        var current = claims
        for part in path.split(separator: ".", omittingEmptySubsequences: false) {
            guard let next = current[String(part)] else { return nil }
            current = next
        }
        return current
    }

    static func text(_ value: JSONValue) -> String? {
        switch value {
        case .string(let text): return text
        case .bool(let flag): return flag ? "true" : "false"
        case .number(let number): return JSONCanonicalizer.formatNumber(number)
        default: return nil
        }
    }
}
