import Foundation
import Testing
@testable import LaForgeAudit
@testable import LaForgeCore
@testable import LaForgeGovernance
@testable import LaForgeIdentity
@testable import LaForgeJournal
@testable import LaForgePlugins
@testable import LaForgeSecrets
@testable import LaForgeTestSupport

/// claims_to_roles (exact values, regex captures, per-tenant grants) and the authorization
/// decision (RBAC, `{tenant}` scopes, ABAC conditions, deny before allow, default deny), decoded
/// from the same YAML a user writes.
@Suite struct AuthorizerTests {
    static let yaml = """
        version: 1
        identity:
          claims_to_roles:
            - claim: groups
              value: "^oidc:laforge-(.*)$"
              roles: ["$1"]
            - claim: email
              value: root@example.com
              roles: [admin]
            - claim: department
              value: finance
              roles: [finance-reader]
              tenants: [acme]
          roles:
            - name: admin
              allow:
                - actions: ["*"]
            - name: auditors
              allow:
                - actions: [audit.read]
                  resources: ["tenant/{tenant}/audit"]
            - name: developers
              allow:
                - actions: ["schema.*"]
                  resources: ["tenant/{tenant}/*"]
                  conditions:
                    - claim: email_verified
                      equals: true
              deny:
                - actions: ["schema.drop"]
            - name: finance-reader
              allow:
                - actions: [ledger.read]
                  resources: ["tenant/{tenant}/ledger"]
        """

    let config: IdentityConfig

    init() throws {
        config = try LaForgeConfig.parse(text: Self.yaml, sourceName: "test.yaml").identity
    }

    func principal(_ claims: [String: JSONValue], groups: [String], tenant: String? = "acme") throws -> Principal {
        var identity: [String: JSONValue] = ["subject": "u1", "issuer": "https://idp", "groups": .array(groups.map(JSONValue.string)), "claims": .object(claims)]
        if let tenant { identity["tenant"] = .string(tenant) }
        return try RoleMapping(rules: config.claimsToRoles).principal(from: .object(identity), connector: "corp")
    }

    @Test func mapsGroupsWithCapturesAndExactClaims() throws {
        let p = try principal(["email": "root@example.com"], groups: ["oidc:laforge-auditors", "oidc:laforge-developers", "unrelated"])
        #expect(p.roles == ["auditors", "developers", "admin"])
    }

    @Test func perTenantGrantsApplyOnlyInThatTenant() throws {
        #expect(try principal(["department": "finance"], groups: []).roles == ["finance-reader"])
        #expect(try principal(["department": "finance"], groups: [], tenant: "globex").roles == [])
        #expect(try principal(["department": "finance"], groups: [], tenant: nil).roles == [])
    }

    @Test func scopesEveryTenantToItself() throws {
        let authorizer = Authorizer(roles: config.roles)
        let p = try principal([:], groups: ["oidc:laforge-auditors"])
        #expect(authorizer.authorize(p, action: "audit.read", resource: "tenant/acme/audit").allowed)
        let other = authorizer.authorize(p, action: "audit.read", resource: "tenant/globex/audit")
        #expect(!other.allowed)
        #expect(other.reason == "no rule of the principal's roles (auditors) allows audit.read on tenant/globex/audit")
        // Without a tenant, a {tenant} rule never matches.
        let tenantless = try principal([:], groups: ["oidc:laforge-auditors"], tenant: nil)
        #expect(!authorizer.authorize(tenantless, action: "audit.read", resource: "tenant/acme/audit").allowed)
    }

    @Test func conditionsOnClaimsAndDenyBeforeAllow() throws {
        let authorizer = Authorizer(roles: config.roles)
        let verified = try principal(["email_verified": true], groups: ["oidc:laforge-developers"])
        let unverified = try principal(["email_verified": false], groups: ["oidc:laforge-developers"])
        #expect(authorizer.authorize(verified, action: "schema.change", resource: "tenant/acme/orders").reason
            == "allowed by role developers (allow rule 1)")
        #expect(!authorizer.authorize(unverified, action: "schema.change", resource: "tenant/acme/orders").allowed)
        let drop = authorizer.authorize(verified, action: "schema.drop", resource: "tenant/acme/orders")
        #expect(!drop.allowed)
        #expect(drop.reason == "denied by role developers (deny rule 1)")
    }

    @Test func defaultDenyExplainsAMissingRole() throws {
        let authorizer = Authorizer(roles: config.roles)
        let nobody = try principal([:], groups: ["oidc:other"])
        #expect(authorizer.authorize(nobody, action: "audit.read", resource: "x").reason
            == "no role: none of the principal's claims matched a claims_to_roles rule")
        let undefined = try principal([:], groups: ["oidc:laforge-ghosts"])
        #expect(authorizer.authorize(undefined, action: "audit.read", resource: "x").reason.contains("roles without a definition in identity.roles: ghosts"))
    }

    @Test func aTenantWithAWildcardCannotWidenAScope() throws {
        let authorizer = Authorizer(roles: config.roles)
        let sneaky = try principal([:], groups: ["oidc:laforge-auditors"], tenant: "*")
        #expect(!authorizer.authorize(sneaky, action: "audit.read", resource: "tenant/acme/audit").allowed)
    }

    @Test func configErrorsNameTheLine() throws {
        func error(_ identity: String) -> String {
            do {
                _ = try LaForgeConfig.parse(text: "version: 1\nidentity:\n" + identity, sourceName: "bad.yaml")
                return ""
            } catch { return error.description }
        }
        #expect(error("  claims_to_roles:\n    - claim: groups\n      value: \"^(unclosed$\"\n      roles: [a]\n").contains("bad.yaml:5:14"))
        #expect(error("  claims_to_roles:\n    - claim: groups\n      value: exact\n      roles: [\"$1\"]\n").contains("uses a capture, but value is not a ^…$ regular expression"))
        #expect(error("  roles:\n    - name: a\n      allow:\n        - actions: [x]\n          conditions:\n            - claim: c\n").contains("give exactly one of equals, in, matches, present"))
        #expect(error("  default_connector: nope\n").contains("default_connector \"nope\" is not one of identity.connectors"))
        #expect(error("  rolez: []\n").contains("rolez"))
    }

    @Test func theExampleConfigIsValid() throws {
        let path = CPluginBuilder.packageRoot.appendingPathComponent("config/examples/oidc.yaml").path
        let config = try LaForgeConfig.load(path: path, environment: ["LAFORGE_OIDC_ISSUER": "https://login.example.com"])
        #expect(config.identity.connectors.map(\.name) == ["corp"])
        #expect(config.identity.connectors[0].config?.toJSON()["issuer"]?.stringValue == "https://login.example.com")
        #expect(config.identity.roles.map(\.name) == ["admin", "auditors", "developers"])
        let mapping = RoleMapping(rules: config.identity.claimsToRoles)
        let identity: JSONValue = ["subject": "s", "groups": ["oidc:laforge-auditors"], "tenant": "acme", "claims": ["email": "dev@acme.example"]]
        #expect(try mapping.principal(from: identity, connector: "corp").roles == ["auditors", "developers"])
    }
}
