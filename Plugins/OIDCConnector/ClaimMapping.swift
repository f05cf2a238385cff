/// Turns verified claims into the identity object of the ABI (laforge_plugin.h): subject,
/// username, email, groups (from `groups_claim`, kept when they match `groups_filter`, then
/// prefixed with `groups_prefix`, like Dex's claim modifications), tenant and org from their
/// configured claims, and every claim as received.
struct ClaimMapping {
    let config: OIDCConfig

    func identity(from claims: JSONValue, expiresAt: Int64?) -> JSONValue {
        .object(mappedMembers(from: claims, expiresAt: expiresAt) + [("claims", claims)])
    }

    /// The identity's members but `claims` (which a validated token's identity takes from the
    /// payload bytes).
    func mappedMembers(from claims: JSONValue, expiresAt: Int64?) -> [(key: String, value: JSONValue)] {
        var members: [(key: String, value: JSONValue)] = []
        members.reserveCapacity(9)
        members.append(("subject", .string(claims.member("sub")?.string ?? "")))
        members.append(("issuer", .string(config.issuer)))
        if let username = claims.claim(atPath: config.usernameClaim)?.string ?? claims.member("email")?.string {
            members.append(("username", .string(username)))
        }
        if let email = claims.member("email")?.string { members.append(("email", .string(email))) }
        if case .bool(let verified)? = claims.member("email_verified") { members.append(("email_verified", .bool(verified))) }
        members.append(("groups", .array(groups(from: claims).map(JSONValue.string))))
        if let claim = config.tenantClaim, let tenant = claims.claim(atPath: claim)?.string {
            members.append(("tenant", .string(tenant)))
        }
        if let claim = config.orgClaim, let org = claims.claim(atPath: claim)?.string {
            members.append(("org", .string(org)))
        }
        if let expiresAt { members.append(("expires_at", .integer(expiresAt))) }
        return members
    }

    func groups(from claims: JSONValue) -> [String] {
        let raw: [String]
        switch claims.claim(atPath: config.groupsClaim) {
        case .array(let items)?: raw = items.compactMap(\.string)
        case .string(let one)?: raw = [one]
        default: raw = []
        }
        let kept = config.groupsFilter.map { filter in raw.filter { (try? filter.firstMatch(in: $0)) != nil } } ?? raw
        return config.groupsPrefix.isEmpty ? kept : kept.map { config.groupsPrefix + $0 }
    }
}
