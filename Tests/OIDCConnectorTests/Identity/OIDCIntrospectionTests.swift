import Foundation
import Testing
@testable import LaForgeTestSupport

@testable import LaForgeAudit
@testable import LaForgeCore
@testable import LaForgeIdentity
@testable import LaForgeJournal
@testable import LaForgePlugins
@testable import LaForgeSecrets

/// Opaque access tokens (oidc-provider-mock hands out only those): refused unless the connector is
/// told to introspect them, and then checked by RFC 7662 introspection (the mock's app with the
/// endpoint Fixtures/oidc/provider.py adds, answering from the mock's own token storage) with
/// `active` and audience checks, cached and rate limited.
@Suite(.serialized) struct OIDCIntrospectionTests {
    let issuer: String
    let subject: String

    init() throws {
        issuer = try mockIssuer()
        subject = "user-\(UUID().uuidString.prefix(8).lowercased())"
        let result = try httpJSON("PUT", "\(issuer)/users/\(subject)", .object(["groups": ["laforge-auditors"], "tenant": "acme"]))
        #expect((200..<300).contains(result.status))
    }

    func sandbox(clientID: String = "laforge-cli", _ extra: String = "") throws -> IdentitySandbox {
        let sandbox = try IdentitySandbox()
        try sandbox.writeConfig(connector: """
                    issuer: \(issuer)
                    client_id: \(clientID)
                    client_secret: mock-accepts-any
                    tenant_claim: tenant
            \(extra)
            """)
        return sandbox
    }

    /// Logs in through the mock (code + PKCE, Fixtures/oidc/browser.py as the browser) and returns
    /// the opaque access token the sandbox's cache holds.
    func accessToken(_ sandbox: IdentitySandbox) throws -> String {
        let login = try CLIRunner.run(
            ["login", "--timeout", "60", "--json", "--config", sandbox.configPath, "--plugin-dir", CLIRunner.buildDirectory],
            environment: [
                "BROWSER": "\(try identityTestPython()) \(fixtureURL("oidc/browser.py").path)", "LAFORGE_TEST_LOGIN_SUB": subject,
            ])
        #expect(login.status == 0, "\(login.output)")
        let token = try #require(try TokenCache(stateDir: sandbox.stateDirectory).load()?.accessToken)
        #expect(!token.contains("."), "oidc-provider-mock hands out opaque access tokens")
        return token
    }

    func introspections() throws -> Int { try httpJSON("GET", issuer + "/introspection-stats").json?["introspections"]?.intValue ?? -1 }

    func refusal(_ connector: IdPConnectorInstance, _ token: String, sourceLocation: SourceLocation = #_sourceLocation) -> PluginCallError? {
        do {
            _ = try connector.validateToken(token)
            Issue.record("a token that must be refused was accepted", sourceLocation: sourceLocation)
            return nil
        } catch {
            #expect(!error.message.contains(token), "a refusal must not echo the token", sourceLocation: sourceLocation)
            return error
        }
    }

    @Test func opaqueTokensAreRefusedUnlessIntrospectionIsTurnedOn() throws {
        let sandbox = try sandbox()
        let token = try accessToken(sandbox)
        let check = try sandbox.laforge(["auth", "check", "--token", token, "--action", "audit.read", "--resource", "tenant/acme/audit"])
        #expect(check.status == 1, "\(check.output)")
        #expect(check.stdout.contains("token refused: not a JWT, and opaque_tokens is \"reject\""), "\(check.output)")
        #expect(!check.output.contains(token))
    }

    @Test func introspectionBindsTheTokenToThisClientAndFollowsRevocation() throws {
        let ours = try sandbox("        opaque_tokens: introspect\n        introspection_cache_seconds: 0")
        let runtime = try ours.runtime()
        defer { runtime.close() }
        let connector = try #require(runtime.idpConnectors.first)
        let token = try accessToken(ours)
        let identity = try connector.validateToken(token)
        #expect(identity["subject"]?.stringValue == subject)
        #expect(identity["tenant"]?.stringValue == "acme")
        #expect(identity["groups"] == .array(["laforge-auditors"]))

        // The same provider, another of its clients: the token is real and active, but not ours.
        let theirs = try accessToken(try sandbox(clientID: "another-app"))
        let foreign = refusal(connector, theirs)
        #expect(foreign?.status == .accessDenied)
        #expect(foreign?.message.contains("token introspection: the token was issued for another-app, not for laforge-cli") == true, "\(String(describing: foreign))")

        // Revoked at the provider: no longer active (no cache here).
        #expect((200..<300).contains(try httpJSON("POST", "\(issuer)/users/\(subject)/revoke-tokens").status))
        #expect(refusal(connector, token)?.message.contains("the provider says the token is not active") == true)
        #expect(refusal(connector, "made-up-token")?.message.contains("not active") == true)
    }

    @Test func answersAreCachedAndProviderCallsRateLimited() throws {
        let sandbox = try sandbox("        opaque_tokens: introspect\n        introspection_max_per_second: 2")
        let token = try accessToken(sandbox)
        let runtime = try sandbox.runtime()
        defer { runtime.close() }
        let connector = try #require(runtime.idpConnectors.first)
        let before = try introspections()
        for _ in 0..<5 { #expect(try connector.validateToken(token)["subject"]?.stringValue == subject) }
        #expect(try introspections() == before + 1, "five validations of one token ask the provider once")
        // Made-up tokens: one call for each until the bucket (2 per second) is empty, then RETRY
        // without asking the provider.
        var statuses: [PluginStatus] = []
        for index in 0..<4 { if let status = refusal(connector, "made-up-\(index)-\(UUID().uuidString)")?.status { statuses.append(status) } }
        #expect(statuses.contains(.retry), "\(statuses)")
        #expect(try introspections() <= before + 3)
        // A refusal is cached too: asking again about a refused token costs the provider nothing.
        let replayed = "replayed-\(UUID().uuidString)"
        Thread.sleep(forTimeInterval: 1.1)
        _ = refusal(connector, replayed)
        let afterFirst = try introspections()
        _ = refusal(connector, replayed)
        #expect(try introspections() == afterFirst)
    }

    @Test func introspectionNeedsAClientSecret() throws {
        let sandbox = try IdentitySandbox()
        try sandbox.writeConfig(connector: """
                    issuer: \(issuer)
                    client_id: laforge-cli
                    opaque_tokens: introspect
            """)
        #expect {
            _ = try sandbox.runtime()
        } throws: { error in
            "\(error)".contains("opaque_tokens: introspect needs client_secret")
        }
    }
}
