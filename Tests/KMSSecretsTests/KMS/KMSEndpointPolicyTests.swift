import Foundation
import Testing
@testable import LaForgeTestSupport

@testable import LaForgeAudit
@testable import LaForgeCore
@testable import LaForgeIdentity
@testable import LaForgeJournal
@testable import LaForgePlugins
@testable import LaForgeSecrets

/// KMSSecrets' transport rule (docs/SECRETS.md "Endpoints and TLS"): in mode: production every
/// service endpoint is https:// (from the configuration, from AWS_ENDPOINT_URL*, from a GCP key
/// file's token_uri or for Azure's vault and authority alike); in development plain http:// only to
/// a loopback address, with a warning. The plugin reads the mode from the host.
@Suite(.serialized) struct KMSEndpointPolicyTests {
    /// A runtime in `mode` with one KMSSecrets backend, loaded from a signed copy of the plugin.
    func start(_ mode: String, _ backendConfig: String, log: CapturedLog) throws -> PluginRuntime {
        let plugins = try SignedPluginDirectory(["libKMSSecrets.so"])
        let yaml = """
            version: 1
            mode: \(mode)
            \(plugins.trustedKeysYAML)
            secret_backends:
              - name: kms
                library: libKMSSecrets.so
                config:
            \(backendConfig)
            """
        return try startRuntime(yaml, pluginDirectory: plugins.path, log: log)
    }

    func expectRefused(
        _ mode: String, _ backendConfig: String, saying expected: String, secrets: [String] = [],
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let log = CapturedLog()
        do {
            let runtime = try start(mode, backendConfig, log: log)
            runtime.close()
            Issue.record("started in \(mode) with \(backendConfig)", sourceLocation: sourceLocation)
        } catch {
            #expect("\(error)".contains(expected), "\(error)", sourceLocation: sourceLocation)
            expectNoSecrets("\(error)" + log.text, secrets, sourceLocation: sourceLocation)
        }
    }

    @Test func productionRefusesPlainHTTPEndpointsInTheConfiguration() throws {
        let moto = try MotoFixture.shared()
        expectRefused(
            "production", moto.backendConfig(), saying: "endpoint: plain http:// (\(moto.url)) is refused in mode: production",
            secrets: moto.secrets)
        expectRefused(
            "production", """
                      provider: gcp
                      endpoint: http://127.0.0.1:9/
            """, saying: "endpoint: plain http:// (http://127.0.0.1:9/) is refused in mode: production")
        expectRefused(
            "production", """
                      provider: gcp
                      endpoint: https://cloudkms.googleapis.com
                      secrets_endpoint: http://secretmanager.example
            """, saying: "secrets_endpoint: plain http://")
        // Azure used to let http://127.0.0.1 through in every mode.
        expectRefused(
            "production", """
                      provider: azure
                      vault_url: http://127.0.0.1:9
            """, saying: "vault_url: plain http:// (http://127.0.0.1:9) is refused in mode: production")
        expectRefused(
            "production", """
                      provider: azure
                      vault_url: https://laforge.vault.azure.net
                      authority_host: http://127.0.0.1:9
                      tenant_id: t
                      client_id: c
                      client_secret: "s3cret-value"
            """, saying: "authority_host: plain http://", secrets: ["s3cret-value"])
        expectRefused("production", "          provider: azure\n          vault_url: ftp://vault.example", saying: "vault_url: ftp://vault.example is not an https:// URL")
    }

    @Test func productionRefusesAWSEndpointURLFromTheEnvironment() throws {
        let moto = try MotoFixture.shared()
        let plugins = try SignedPluginDirectory(["libKMSSecrets.so"])
        let directory = try temporaryDirectory("laforge-kms-endpoint")
        try """
            version: 1
            mode: production
            state_dir: \(directory)/state
            plugin_dir: \(plugins.path)
            \(plugins.trustedKeysYAML)
            secret_backends:
              - name: kms
                library: libKMSSecrets.so
                config:
                  provider: aws
                  region: us-east-1
                  key_id: \(moto.keyID)
                  credential_sources: [environment]
            """.write(toFile: directory + "/laforge.yaml", atomically: true, encoding: .utf8)
        let environment = [
            "AWS_ACCESS_KEY_ID": moto.adminKeyID, "AWS_SECRET_ACCESS_KEY": moto.adminSecret, "AWS_ENDPOINT_URL_KMS": "",
            "AWS_ENDPOINT_URL_SECRETS_MANAGER": "", "AWS_ENDPOINT_URL": moto.url,
        ]
        let result = try CLIRunner.run(["secrets", "get", "laforge/db-password", "--config", directory + "/laforge.yaml"], environment: environment)
        #expect(result.status != 0)
        let printedNothing = result.stdout.isEmpty  // (not the expression itself: it would print the secret)
        #expect(printedNothing)
        #expect(result.stderr.contains("AWS_ENDPOINT_URL: plain http:// (\(moto.url)) is refused in mode: production"), "\(result.stderr)")
        expectNoSecrets(result.output, moto.secrets)
    }

    @Test func developmentAllowsLoopbackHTTPWithAWarningAndNothingElse() throws {
        let moto = try MotoFixture.shared()
        let log = CapturedLog()
        let runtime = try start("development", moto.backendConfig(), log: log)
        defer { runtime.close() }
        #expect(try runtime.secrets.resolveSecret("kms/laforge/db-password").unsafeStringValue() == moto.dbPassword)
        #expect(log.text.contains("endpoint \(moto.url) is plain http:// to a loopback address"), "\(log.text)")
        expectNoSecrets(log.text, moto.secrets)

        expectRefused(
            "development", """
                      provider: aws
                      region: us-east-1
                      credential_sources: [web_identity]
                      sts_endpoint: http://sts.example.com
            """, saying: "sts_endpoint: plain http:// (http://sts.example.com) is allowed in development only to a loopback address")
        // A name that merely starts like a loopback address is not one.
        expectRefused(
            "development", "          provider: azure\n          vault_url: http://127.0.0.1.evil.example",
            saying: "is allowed in development only to a loopback address")
    }

    @Test func productionTalksHTTPSWithAVerifiedCertificate() throws {
        let fake = try KMSFakeServer(
            "azure_fake.py",
            ["--tenant", AzureKeyVaultTests.tenant, "--client-id", AzureKeyVaultTests.clientID, "--client-secret",
             AzureKeyVaultTests.clientSecret, "--key-name", "wrapping", "--secret", "db-password=\(AzureKeyVaultTests.secretValue)"],
            directory: try temporaryDirectory("laforge-azure-production"))
        let log = CapturedLog()
        let runtime = try start("production", AzureKeyVaultTests().backendConfig(fake), log: log)
        defer { runtime.close() }
        #expect(try runtime.secrets.resolveSecret("kms/db-password").unsafeStringValue() == AzureKeyVaultTests.secretValue)
        #expect(!log.text.contains("plain http://"))
    }
}
