import Foundation
import LaForgeCore
import LaForgePlugins

/// Who is logged in on this machine, from the token cache alone (no network): what `audit emit`
/// (and, once merged, `approve` and `snapshot sign`) use as the actor when no `--actor` is given.
/// An expired session is refused, not trusted; `laforge whoami` renews it through the connector.
public enum LoggedInIdentity {
    /// The cached principal with roles mapped by `identity.claims_to_roles`; nil when nobody is
    /// logged in.
    public static func current(
        stateDir: String, identity: IdentityConfig, now: Int64 = Int64(Date().timeIntervalSince1970)
    ) throws(IdentityError) -> Principal? {
        guard let entry = try TokenCache(stateDir: stateDir).load() else { return nil }
        if let expiresAt = entry.expiresAt, expiresAt <= now {
            throw IdentityError(
                .notLoggedIn,
                "the logged-in session of connector \(entry.connector) expired at \(expiresAt); run `laforge whoami` to renew it or `laforge login`")
        }
        guard let identityObject = entry.identity else {
            throw IdentityError(.io, "\(TokenCache(stateDir: stateDir).path) has no identity; log in again")
        }
        return try RoleMapping(rules: identity.claimsToRoles).principal(from: identityObject, connector: entry.connector)
    }

    /// The audit actor for the logged-in principal: user, mapped roles, and the claims that name
    /// who vouched for it (issuer, subject, connector), never tokens.
    public static func auditActor(_ principal: Principal) -> AuditActor {
        var claims: [String: JSONValue] = ["sub": .string(principal.subject), "iss": .string(principal.issuer), "connector": .string(principal.connector)]
        if let tenant = principal.tenant { claims["tenant"] = .string(tenant) }
        return AuditActor(user: principal.actorName, roles: principal.roles, claims: claims)
    }
}
