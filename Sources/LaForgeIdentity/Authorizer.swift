import LaForgeCore
import LaForgePlugins

/// The authorization decision: `authorize(principal, action, resource)` → allow or deny, with
/// the reason. RBAC through the principal's roles, ABAC through each rule's claim conditions and
/// `{tenant}` scopes. Deny rules are checked first and win; without a matching allow the answer
/// is deny (default deny).
public struct Authorizer: Sendable {
    public var roles: [String: RoleDefinition]

    public init(roles: [RoleDefinition]) {
        self.roles = Dictionary(roles.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
    }

    public func authorize(_ principal: Principal, action: String, resource: String) -> AuthorizationDecision {
        let held = principal.roles.compactMap { roles[$0] }
        for role in held {
            for (index, rule) in role.deny.enumerated() where rule.applies(to: principal, action: action, resource: resource) {
                return AuthorizationDecision(
                    allowed: false, reason: "denied by role \(role.name) (deny rule \(index + 1))", role: role.name)
            }
        }
        for role in held {
            for (index, rule) in role.allow.enumerated() where rule.applies(to: principal, action: action, resource: resource) {
                return AuthorizationDecision(
                    allowed: true, reason: "allowed by role \(role.name) (allow rule \(index + 1))", role: role.name)
            }
        }
        let reason: String
        if principal.roles.isEmpty {
            reason = "no role: none of the principal's claims matched a claims_to_roles rule"
        } else {
            let unknown = principal.roles.filter { roles[$0] == nil }
            reason = "no rule of the principal's roles (\(principal.roles.joined(separator: ", "))) allows \(action) on \(resource)"
                + (unknown.isEmpty ? "" : "; roles without a definition in identity.roles: \(unknown.joined(separator: ", "))")
        }
        return AuthorizationDecision(allowed: false, reason: reason, role: nil)
    }
}

public struct AuthorizationDecision: Sendable, Equatable {
    public var allowed: Bool
    public var reason: String
    /// The role whose rule decided, nil for a default deny.
    public var role: String?

    public func jsonValue() -> JSONValue {
        var object: [String: JSONValue] = ["decision": .string(allowed ? "allow" : "deny"), "reason": .string(reason)]
        if let role { object["role"] = .string(role) }
        return .object(object)
    }
}
