import LaForgeCore

/// Who is acting, as the host decides it: the connector's verified identity with roles mapped
/// from its claims (`claims_to_roles`). Authorization decisions and audit actors start here.
public struct Principal: Sendable, Equatable {
    public var subject: String
    public var roles: [String]
    public var tenant: String?
    public var org: String?
    /// Every claim of the token (or userinfo) as received, for ABAC conditions.
    public var claims: JSONValue
    public var username: String?
    public var email: String?
    public var groups: [String]
    public var issuer: String
    /// The IdP connector instance that vouched for it.
    public var connector: String
    public var expiresAt: Int64?

    public init(
        subject: String, roles: [String], tenant: String? = nil, org: String? = nil, claims: JSONValue = .object([:]),
        username: String? = nil, email: String? = nil, groups: [String] = [], issuer: String = "", connector: String = "",
        expiresAt: Int64? = nil
    ) {
        self.subject = subject
        self.roles = roles
        self.tenant = tenant
        self.org = org
        self.claims = claims
        self.username = username
        self.email = email
        self.groups = groups
        self.issuer = issuer
        self.connector = connector
        self.expiresAt = expiresAt
    }

    /// The name an audit event's actor carries: the username when the provider gave one, else
    /// the subject.
    public var actorName: String { username ?? email ?? subject }

    public func jsonValue(includeClaims: Bool = true) -> JSONValue {
        var object: [String: JSONValue] = [
            "subject": .string(subject), "roles": .array(roles.map(JSONValue.string)),
            "groups": .array(groups.map(JSONValue.string)), "issuer": .string(issuer), "connector": .string(connector),
        ]
        if let tenant { object["tenant"] = .string(tenant) }
        if let org { object["org"] = .string(org) }
        if let username { object["username"] = .string(username) }
        if let email { object["email"] = .string(email) }
        if let expiresAt { object["expires_at"] = .number(Double(expiresAt)) }
        if includeClaims { object["claims"] = claims }
        return .object(object)
    }
}
