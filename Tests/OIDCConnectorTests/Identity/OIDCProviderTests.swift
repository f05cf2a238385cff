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

/// The OIDC connector and the identity commands against a real provider, oidc-provider-mock
/// (scripts/services/oidc): discovery, JWKS, the authorization code flow with PKCE on a loopback
/// redirect (driven by Fixtures/oidc/browser.py as $BROWSER), RFC 7662 introspection for its
/// opaque access tokens (the endpoint Fixtures/oidc/provider.py adds), refresh, user claims set per test, role mapping and audited denials.
@Suite(.serialized) struct OIDCProviderTests {
    let issuer: String
    let sandbox: IdentitySandbox
    let subject: String

    init() throws {
        issuer = try mockIssuer()
        sandbox = try IdentitySandbox()
        subject = "user-\(UUID().uuidString.prefix(8).lowercased())"
        try sandbox.writeConfig(
            connector: """
                        issuer: \(issuer)
                        client_id: laforge-cli
                        client_secret: mock-accepts-any
                        groups_prefix: "oidc:"
                        tenant_claim: tenant
                        opaque_tokens: introspect
                """,
            rest: """
                  claims_to_roles:
                    - claim: groups
                      value: "^oidc:laforge-(.*)$"
                      roles: ["$1"]
                    - claim: email
                      value: ops@example.com
                      roles: [operator]
                  roles:
                    - name: admins
                      allow:
                        - actions: ["*"]
                          resources: ["tenant/{tenant}/*"]
                    - name: auditors
                      allow:
                        - actions: [audit.read]
                          resources: ["tenant/{tenant}/audit"]
                """)
    }

    /// Sets the user's claims at the provider (its PUT /users/{sub}).
    func setClaims(_ claims: [String: JSONValue]) throws {
        let result = try httpJSON("PUT", "\(issuer)/users/\(subject)", .object(claims))
        #expect((200..<300).contains(result.status), "PUT /users answered \(result.status)")
    }

    func login(_ extra: [String] = []) throws -> CLIResult {
        try CLIRunner.run(
            ["login", "--timeout", "60", "--json"] + extra + ["--config", sandbox.configPath, "--plugin-dir", CLIRunner.buildDirectory],
            environment: [
                "BROWSER": "\(try identityTestPython()) \(fixtureURL("oidc/browser.py").path)",
                "LAFORGE_TEST_LOGIN_SUB": subject,
            ])
    }

    @Test func logsInWithCodeAndPKCEThenWhoamiShowsMappedRoles() throws {
        try setClaims(["email": .string("\(subject)@example.com"), "groups": ["laforge-admins", "other"], "tenant": "acme"])
        let result = try login()
        #expect(result.status == 0, "\(result.output)")
        #expect(result.stderr.contains("Open this URL in your browser"))
        #expect(result.stderr.contains("code_challenge_method=S256"))
        let principal = try JSONParser.parse(result.stdout)
        #expect(principal["subject"]?.stringValue == subject)
        #expect(principal["roles"] == .array(["admins"]))
        #expect(principal["groups"] == .array(["oidc:laforge-admins", "oidc:other"]))
        #expect(principal["tenant"]?.stringValue == "acme")

        // The cache holds tokens: 0600 in a 0700 folder.
        let cache = TokenCache(stateDir: sandbox.stateDirectory)
        let attributes = try FileManager.default.attributesOfItem(atPath: cache.path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        let folder = try FileManager.default.attributesOfItem(atPath: cache.directory)
        #expect((folder[.posixPermissions] as? Int) == 0o700)
        #expect(!result.output.contains(try #require(try cache.load()?.accessToken)), "tokens never printed")

        let whoami = try sandbox.laforge(["whoami", "--json"])
        #expect(whoami.status == 0, "\(whoami.output)")
        #expect(try JSONParser.parse(whoami.stdout)["subject"]?.stringValue == subject)
    }

    @Test func authCheckAllowsAndDeniesWithTheOpaqueAccessTokenThroughIntrospection() throws {
        try setClaims(["email": .string("\(subject)@example.com"), "groups": ["laforge-auditors"], "tenant": "acme"])
        #expect(try login().status == 0)
        let token = try #require(try TokenCache(stateDir: sandbox.stateDirectory).load()?.accessToken)
        #expect(!token.contains("."), "oidc-provider-mock hands out opaque access tokens")

        let allowed = try sandbox.laforge(["auth", "check", "--token", token, "--action", "audit.read", "--resource", "tenant/acme/audit", "--json"])
        #expect(allowed.status == 0, "\(allowed.output)")
        let decision = try JSONParser.parse(allowed.stdout)
        #expect(decision["decision"]?.stringValue == "allow")
        #expect(decision["reason"]?.stringValue == "allowed by role auditors (allow rule 1)")

        // Another tenant's audit trail: denied, and the denial is in the audit trail.
        let denied = try sandbox.laforge(["auth", "check", "--token", token, "--action", "audit.read", "--resource", "tenant/globex/audit"])
        #expect(denied.status == 1, "\(denied.output)")
        #expect(denied.stdout.contains("deny: no rule of the principal's roles (auditors) allows audit.read on tenant/globex/audit"))
        let tail = try sandbox.laforge(["audit", "tail", "-n", "1", "--json"])
        #expect(tail.stdout.contains("\"action\":\"auth.deny\""), "\(tail.output)")
        #expect(tail.stdout.contains("tenant/globex/audit"))
        #expect(!tail.stdout.contains(token))

        // A token the provider does not know: denied at the token stage, audited too.
        let bogus = try sandbox.laforge(["auth", "check", "--token", "not-a-real-token", "--action", "audit.read", "--resource", "tenant/acme/audit"])
        #expect(bogus.status == 1)
        #expect(bogus.stdout.contains("deny: token refused: token introspection: the provider says the token is not active"), "\(bogus.output)")
    }

    @Test func refreshRenewsTheSessionAndKeepsTheIdentity() throws {
        try setClaims(["email": "ops@example.com", "groups": [], "tenant": "acme"])
        #expect(try login().status == 0)
        let cache = TokenCache(stateDir: sandbox.stateDirectory)
        let before = try #require(try cache.load())
        let refreshed = try login(["--refresh"])
        #expect(refreshed.status == 0, "\(refreshed.output)")
        let after = try #require(try cache.load())
        #expect(after.accessToken != before.accessToken)
        #expect(try JSONParser.parse(refreshed.stdout)["roles"] == .array(["operator"]))
    }

    @Test func whoamiRenewsAnExpiredSessionWithTheRefreshToken() throws {
        try setClaims(["email": .string("\(subject)@example.com"), "groups": ["laforge-admins"], "tenant": "acme"])
        #expect(try login().status == 0)
        let cache = TokenCache(stateDir: sandbox.stateDirectory)
        var entry = try #require(try cache.load())
        let oldToken = entry.accessToken
        guard case .object(var session) = entry.session else { Issue.record("session is not an object"); return }
        session["expires_at"] = .number(Double(Int(Date().timeIntervalSince1970) - 10))
        entry.session = .object(session)
        try cache.save(entry)
        let whoami = try sandbox.laforge(["whoami", "--json"])
        #expect(whoami.status == 0, "\(whoami.output)")
        #expect(try cache.load()?.accessToken != oldToken, "whoami renewed the session")
    }

    @Test func auditEmitTakesTheActorFromTheLoggedInIdentity() throws {
        try setClaims(["email": .string("\(subject)@example.com"), "groups": ["laforge-admins"], "tenant": "acme"])
        let withoutLogin = try sandbox.laforge(["audit", "emit", "--action", "schema.change"])
        #expect(withoutLogin.status == 5)
        #expect(withoutLogin.stderr.contains("--actor is required when nobody is logged in"))
        #expect(try login().status == 0)
        let emitted = try sandbox.laforge(["audit", "emit", "--action", "schema.change", "--target", "orders"])
        #expect(emitted.status == 0, "\(emitted.output)")
        let tail = try sandbox.laforge(["audit", "tail", "-n", "1", "--json"])
        #expect(tail.stdout.contains("\"user\":\"\(subject)@example.com\""), "\(tail.output)")
        #expect(tail.stdout.contains("\"roles\":[\"admins\"]"))
        #expect(tail.stdout.contains("\"iss\":\"\(issuer)\""))
        // Flags still win for automation.
        #expect(try sandbox.laforge(["audit", "emit", "--actor", "ci-bot", "--action", "schema.change"]).status == 0)
        #expect(try sandbox.laforge(["audit", "tail", "-n", "1", "--json"]).stdout.contains("\"user\":\"ci-bot\""))
    }

    @Test func theDeviceFlowIsRefusedClearlyWhenTheProviderLacksIt() throws {
        let result = try sandbox.laforge(["login", "--device"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("the provider advertises no device_authorization_endpoint"), "\(result.output)")
    }

    @Test func refusesADiscoveredIssuerThatDiffers() throws {
        // Issuers compare exactly: a trailing slash makes another issuer (OIDC Discovery §4.3).
        let other = try IdentitySandbox()
        try other.writeConfig(connector: """
                    issuer: \(issuer)/
                    client_id: laforge-cli
            """)
        let result = try other.laforge(["whoami"])
        #expect(result.status == 4, "\(result.output)")
        #expect(result.stderr.contains("OIDC discovery: the provider says its issuer is"), "\(result.output)")
    }
}
