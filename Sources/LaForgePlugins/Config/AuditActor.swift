import LaForgeCore

/// Who did something: the authenticated user, the roles they acted with, and the identity
/// provider's claims that mattered for the decision.
public struct AuditActor: Sendable, Equatable {
    public var user: String
    public var roles: [String]
    public var claims: [String: JSONValue]

    public init(user: String, roles: [String] = [], claims: [String: JSONValue] = [:]) {
        self.user = user
        self.roles = roles
        self.claims = claims
    }
}
