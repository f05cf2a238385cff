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

/// `laforge secrets …` end to end against moto, with credentials from the standard AWS
/// environment variables and from a shared credentials file (the config names neither), endpoint
/// from AWS_ENDPOINT_URL. No secret ever appears on standard error.
@Suite(.serialized) struct SecretsCLITests {
    func sandbox(_ backendConfig: String) throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("laforge-kms-cli-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try """
            version: 1
            state_dir: \(directory)/state
            secret_backends:
              - name: kms
                library: libKMSSecrets.so
                config:
            \(backendConfig)
            """.write(toFile: directory + "/laforge.yaml", atomically: true, encoding: .utf8)
        return directory
    }

    func laforge(_ arguments: [String], in directory: String, environment: [String: String], stdin: String? = nil) throws -> CLIResult {
        guard let stdin else {
            return try CLIRunner.run(arguments + ["--config", directory + "/laforge.yaml"], environment: environment)
        }
        let input = directory + "/stdin-\(UUID().uuidString)"
        try stdin.write(toFile: input, atomically: true, encoding: .utf8)
        let command = ([CLIRunner.buildDirectory + "/laforge"] + arguments + ["--config", directory + "/laforge.yaml"])
            .map { "'\($0)'" }.joined(separator: " ") + " < '\(input)'"
        return try CLIRunner.runShell(command, environment: environment)
    }

    /// Everything else in the environment that could make the chain pick other credentials.
    func cleanEnvironment(_ moto: MotoFixture) -> [String: String] {
        [
            "AWS_ENDPOINT_URL": moto.url, "AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "",
            "AWS_SESSION_TOKEN": "", "AWS_PROFILE": "", "AWS_WEB_IDENTITY_TOKEN_FILE": "", "AWS_CONTAINER_CREDENTIALS_FULL_URI": "",
            "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "", "AWS_EC2_METADATA_DISABLED": "true", "HOME": "/nonexistent",
            "LAFORGE_KMS_KEY_ID": moto.keyID,
        ]
    }

    @Test func environmentCredentialsSealOpenAndGetThroughTheCLI() throws {
        let moto = try MotoFixture.shared()
        let directory = try sandbox("""
                  provider: aws
                  key_id: ${env:LAFORGE_KMS_KEY_ID}
            """)
        var environment = cleanEnvironment(moto)
        environment["AWS_ACCESS_KEY_ID"] = moto.adminKeyID
        environment["AWS_SECRET_ACCESS_KEY"] = moto.adminSecret

        let get = try laforge(["secrets", "get", "laforge/db-password"], in: directory, environment: environment)
        #expect(get.status == 0, "\(get.stderr)")
        #expect(get.stdout == moto.dbPassword)

        let sealed = try laforge(
            ["secrets", "encrypt", "--tenant", "acme", "--field", "users.ssn"], in: directory, environment: environment, stdin: "078-05-1120")
        #expect(sealed.status == 0, "\(sealed.stderr)")
        let ciphertext = sealed.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(Data(base64Encoded: ciphertext) != nil)
        #expect(!sealed.stdout.contains("078-05-1120"))

        let opened = try laforge(["secrets", "decrypt", "--tenant", "acme", "--field", "users.ssn", ciphertext], in: directory, environment: environment)
        #expect(opened.status == 0, "\(opened.stderr)")
        #expect(opened.stdout == "078-05-1120")

        let wrongTenant = try laforge(["secrets", "decrypt", "--tenant", "globex", "--field", "users.ssn", ciphertext], in: directory, environment: environment)
        #expect(wrongTenant.status == 1)
        #expect(wrongTenant.stderr.contains("another context"))

        let missing = try laforge(["secrets", "get", "kms/laforge/nope"], in: directory, environment: environment)
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("ResourceNotFoundException"))

        var wrong = environment
        // Another first character, never the same one (moto's secrets are random: one in 62 began with "x").
        wrong["AWS_SECRET_ACCESS_KEY"] = (moto.adminSecret.first == "x" ? "y" : "x") + moto.adminSecret.dropFirst()
        let denied = try laforge(["secrets", "get", "laforge/db-password"], in: directory, environment: wrong)
        #expect(denied.status == 2)
        #expect(denied.stderr.contains("ACCESS_DENIED"))

        for result in [get, sealed, opened, wrongTenant, missing, denied] {
            expectNoSecrets(result.stderr, moto.secrets + [wrong["AWS_SECRET_ACCESS_KEY"]!])
        }
    }

    @Test func sharedCredentialsFileProfileIsUsed() throws {
        let moto = try MotoFixture.shared()
        let directory = try sandbox("""
                  provider: aws
                  key_id: ${env:LAFORGE_KMS_KEY_ID}
            """)
        try """
            [default]
            aws_access_key_id = AKIAWRONGWRONGWRONG0
            aws_secret_access_key = not-this-one

            [laforge]
            aws_access_key_id = \(moto.adminKeyID)
            aws_secret_access_key = \(moto.adminSecret)
            """.write(toFile: directory + "/credentials", atomically: true, encoding: .utf8)
        var environment = cleanEnvironment(moto)
        environment["AWS_SHARED_CREDENTIALS_FILE"] = directory + "/credentials"
        environment["AWS_PROFILE"] = "laforge"
        let get = try laforge(["secrets", "get", "laforge/db-password"], in: directory, environment: environment)
        #expect(get.status == 0, "\(get.stderr)")
        #expect(get.stdout == moto.dbPassword)

        environment["AWS_PROFILE"] = "nosuch"
        let missingProfile = try laforge(["secrets", "get", "laforge/db-password"], in: directory, environment: environment)
        #expect(missingProfile.status == 2)
        #expect(missingProfile.stderr.contains("profile nosuch"))
        expectNoSecrets(get.stderr + missingProfile.stderr, moto.secrets)
    }
}

/// The shipped example configurations load, start their plugins, and (AWS) work against moto with
/// nothing but the standard AWS variables.
@Suite(.serialized) struct KMSExampleConfigTests {
    @Test func exampleConfigsValidateAndTheAWSOneReadsASecret() throws {
        let moto = try MotoFixture.shared()
        let directory = try temporaryDirectory("laforge-kms-examples")
        let root = CPluginBuilder.packageRoot.path
        let environment = [
            "LAFORGE_KMS_KEY_ID": moto.keyID, "AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL": moto.url,
            "AWS_ACCESS_KEY_ID": moto.adminKeyID, "AWS_SECRET_ACCESS_KEY": moto.adminSecret, "AWS_PROFILE": "",
            "AWS_SESSION_TOKEN": "", "GOOGLE_CLOUD_PROJECT": "laforge-test",
            "LAFORGE_KEY_VAULT_URL": "https://laforge-test.vault.azure.net",
        ]
        for name in ["kms-aws", "kms-gcp", "kms-azure"] {
            let result = try CLIRunner.run(
                ["config", "validate", "--config", "\(root)/config/examples/\(name).yaml", "--state-dir", directory + "/state"],
                environment: environment, in: directory)
            #expect(result.status == 0, "\(name): \(result.output)")
        }
        let get = try CLIRunner.run(
            ["secrets", "get", "laforge/db-password", "--config", "\(root)/config/examples/kms-aws.yaml", "--state-dir", directory + "/state"],
            environment: environment, in: directory)
        #expect(get.status == 0, "\(get.stderr)")
        #expect(get.stdout == moto.dbPassword)
        expectNoSecrets(get.stderr, moto.secrets)
    }
}
