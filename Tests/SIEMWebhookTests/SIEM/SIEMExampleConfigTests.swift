import Foundation
import Testing
@testable import LaForgeTestSupport

@testable import LaForgeAudit
@testable import LaForgeCore
@testable import LaForgeGovernance
@testable import LaForgeIdentity
@testable import LaForgeJournal
@testable import LaForgePlugins
@testable import LaForgeSecrets

/// The SIEM example configurations under config/examples load and start their sink with
/// `laforge config validate` (create checks every setting; nothing is sent).
@Suite struct SIEMExampleConfigTests {
    let environment = [
        "LAFORGE_WEBHOOK_URL": "https://siem.example.com/laforge",
        "LAFORGE_WEBHOOK_SECRET": "whsec_" + randomBase64(32),
        "LAFORGE_SPLUNK_HEC_TOKEN": "hec-" + UUID().uuidString,
        "LAFORGE_ELASTIC_API_KEY": "es-" + UUID().uuidString,
    ]

    func validate(_ name: String, environment: [String: String]) throws -> CLIResult {
        let stateDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("laforge-siem-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: stateDirectory) }
        return try CLIRunner.run(
            ["config", "validate", "--config", CPluginBuilder.packageRoot.path + "/config/examples/\(name).yaml",
             "--state-dir", stateDirectory, "--plugin-dir", CLIRunner.buildDirectory],
            environment: environment)
    }

    @Test(arguments: ["siem-webhook", "splunk-hec", "elastic", "syslog-cef"])
    func exampleValidates(_ name: String) throws {
        let result = try validate(name, environment: environment)
        #expect(result.status == 0, "\(result.output)")
        #expect(result.stdout.contains("siem-webhook 1.0.0"))
        for secret in environment.values where !secret.hasPrefix("https") {
            #expect(!result.output.contains(secret))
        }
    }

    @Test func aMissingEnvironmentVariableIsAConfigError() throws {
        var partial = environment
        partial.removeValue(forKey: "LAFORGE_WEBHOOK_URL")
        let result = try validate("siem-webhook", environment: partial)
        #expect(result.status == 3)
        #expect(result.stderr.contains("environment variable LAFORGE_WEBHOOK_URL is not set"))
    }

    @Test func aMalformedSigningSecretIsRefusedWithoutShowingIt() throws {
        var bad = environment
        bad["LAFORGE_WEBHOOK_SECRET"] = "whsec_not-base64!!secretvalue"
        let result = try validate("siem-webhook", environment: bad)
        #expect(result.status != 0)
        #expect(result.stderr.contains("signing.hmac_secrets[0]"))
        #expect(!result.output.contains("secretvalue"))
    }
}
