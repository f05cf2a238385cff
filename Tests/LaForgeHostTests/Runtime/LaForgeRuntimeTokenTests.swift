import Foundation
import LaForgeHost
import Testing
@testable import LaForgeTestSupport

/// `LaForgeRuntime.authorize(token:…)` against a real OpenID Connect issuer (issuer.py, with the
/// built OIDCConnector plugin): a valid token is allowed by its mapped role, a token for another
/// audience is a denial, and both the policy and the token denials land in the journal.
@Suite(.serialized) struct LaForgeRuntimeTokenTests {
    @Test func tokensAreValidatedMappedAndDecidedAndDenialsRecorded() throws {
        let issuer = try ControlledIssuer()
        let sandbox = try IdentitySandbox()
        try sandbox.writeReadersConfig(issuer: issuer.url, resources: "tenant/acme/*")
        let runtime = try LaForgeRuntime.open(
            configPath: sandbox.configPath, options: .init(pluginDirectory: CLIRunner.buildDirectory, logger: CapturedLog().logger))
        let token = try issuer.forge(claims: ["aud": "laforge", "sub": "alice"])

        let allowed = try runtime.authorize(token: token, action: "audit.read", resource: "tenant/acme/audit")
        #expect(allowed.decision.allowed, "\(allowed.decision.reason)")
        #expect(allowed.principal?.subject == "alice")
        #expect(allowed.principal?.roles == ["readers"])
        #expect(try runtime.principal(token: token).roles == ["readers"])

        let otherTenant = try runtime.authorize(token: token, action: "audit.read", resource: "tenant/globex/audit")
        #expect(!otherTenant.decision.allowed)

        let foreign = try issuer.forge(claims: ["aud": "someone-else", "sub": "alice"])
        let refused = try runtime.authorize(token: foreign, action: "audit.read", resource: "tenant/acme/audit")
        #expect(!refused.decision.allowed)
        #expect(refused.principal == nil)
        #expect(refused.decision.reason.hasPrefix("token refused"), "\(refused.decision.reason)")
        #expect(!refused.decision.reason.contains(foreign), "the token must not be echoed")
        runtime.shutdown()

        let entries = try CLIRunner.run(
            ["audit", "tail", "-n", "10", "--json", "--config", sandbox.configPath, "--plugin-dir", CLIRunner.buildDirectory])
        let stages = try entries.stdout.split(separator: "\n").map { try JSONParser.parse(Array($0.utf8)) }
            .map { ($0["event"]?["action"]?.stringValue, $0["event"]?["data"]?["stage"]?.stringValue) }
        #expect(stages.map(\.0) == ["auth.deny", "auth.deny"], "\(entries.output)")
        #expect(stages.map(\.1) == ["policy", "token"])
    }
}
