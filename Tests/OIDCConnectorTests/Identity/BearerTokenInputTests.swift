import Foundation
import Testing
@testable import LaForgeTestSupport

@testable import LaForgeCore
@testable import LaForgeIdentity

/// `auth check` takes the bearer token from a file, standard input or LAFORGE_TOKEN; `--token T`
/// (readable by every local user in /proc/PID/cmdline) is refused in mode: production and warned
/// about in development.
@Suite(.serialized) struct BearerTokenInputTests {
    let issuer: ControlledIssuer
    let sandbox: IdentitySandbox
    let token: String

    init() throws {
        issuer = try ControlledIssuer()
        sandbox = try IdentitySandbox()
        try sandbox.writeReadersConfig(issuer: issuer.url, resources: "*")
        token = try issuer.forge(claims: ["aud": "laforge", "sub": "alice"])
    }

    let check = ["auth", "check", "--action", "audit.read", "--resource", "tenant/acme/audit"]

    func expectAllowed(_ result: CLIResult, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(result.status == 0, "\(result.output)", sourceLocation: sourceLocation)
        #expect(result.stdout.contains("allow: allowed by role readers"), "\(result.output)", sourceLocation: sourceLocation)
        #expect(!result.output.contains(token), "the token was printed", sourceLocation: sourceLocation)
    }

    @Test func theTokenComesFromAFileStandardInputOrTheEnvironment() throws {
        let file = sandbox.root + "/token"
        try (token + "\n").write(toFile: file, atomically: true, encoding: .utf8)
        expectAllowed(try sandbox.laforge(check + ["--token-file", file]))
        let laforge = ([CLIRunner.buildDirectory + "/laforge"] + check + ["--token-file", "-", "--config", sandbox.configPath])
            .map { "'\($0)'" }.joined(separator: " ")
        expectAllowed(try CLIRunner.runShell(laforge + " < '\(file)'"))
        expectAllowed(try CLIRunner.run(check + ["--config", sandbox.configPath], environment: ["LAFORGE_TOKEN": token]))
        let empty = sandbox.root + "/empty"
        try "\n".write(toFile: empty, atomically: true, encoding: .utf8)
        let nothing = try sandbox.laforge(check + ["--token-file", empty])
        #expect(nothing.status == 2)
        #expect(nothing.stderr.contains("\(empty) holds no token"))
    }

    @Test func anArgumentIsWarnedAboutInDevelopmentAndRefusedInProduction() throws {
        let warned = try sandbox.laforge(check + ["--token", token])
        #expect(warned.status == 0, "\(warned.output)")
        #expect(warned.stderr.contains("warning: --token puts the token where every local user can read it"))

        let production = sandbox.root + "/production.yaml"
        let release = try Ed25519SigningKey.generate(name: "release")
        try String(contentsOfFile: sandbox.configPath, encoding: .utf8)
            .replacingOccurrences(
                of: "mode: development",
                with: "mode: production\ntrusted_keys:\n  - name: release\n    public_key: \(Data(release.verifierKey.publicKey).base64EncodedString())")
            .write(toFile: production, atomically: true, encoding: .utf8)
        let refused = try CLIRunner.run(check + ["--token", token, "--config", production])
        #expect(refused.status == 64, "\(refused.output)")
        #expect(refused.stderr.contains("--token is refused in mode: production"), "\(refused.stderr)")
        #expect(!refused.output.contains(token))
    }
}
