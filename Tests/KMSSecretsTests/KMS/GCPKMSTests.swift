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

/// KMSSecrets against the Cloud KMS / Secret Manager fake (Fixtures/kms-fakes/gcp_fake.py), which
/// is first proven with Google's own SDKs: AAD-bound encryption, CRC32C both ways, service-account
/// JWT-bearer and metadata-server tokens, expired tokens refreshed, throttling retried, corrupted
/// replies refused, no secret or token in any captured output.
@Suite(.serialized) struct GCPKMSTests {
    static let keyName = "projects/laforge-test/locations/global/keyRings/ring/cryptoKeys/fields"
    static let secretValue = "gcp-" + randomBase64(18)

    struct Setup {
        let directory: String
        let fake: KMSFakeServer
        let keyFile: String
        let privateKeyPEM: String
    }

    func setUp() throws -> Setup {
        let directory = try temporaryDirectory("laforge-gcp")
        _ = try runProgram("/usr/bin/openssl", ["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", "sa.pem"], in: directory)
        let pem = try String(contentsOfFile: directory + "/sa.pem", encoding: .utf8)
        func writeKeyFile(tokenURI: String) throws {
            let account: [String: String] = [
                "type": "service_account", "project_id": "laforge-test", "private_key_id": "test-key-1", "private_key": pem,
                "client_email": "laforge@laforge-test.iam.gserviceaccount.com", "client_id": "1", "token_uri": tokenURI,
            ]
            try JSONSerialization.data(withJSONObject: account).write(to: URL(fileURLWithPath: directory + "/sa.json"))
        }
        try writeKeyFile(tokenURI: "https://127.0.0.1:1/token")
        let fake = try KMSFakeServer(
            "gcp_fake.py",
            ["--service-account", directory + "/sa.json", "--secret", "db-password=\(Self.secretValue)", "--key-name", Self.keyName],
            directory: directory)
        try writeKeyFile(tokenURI: fake.url + "/token")
        return Setup(directory: directory, fake: fake, keyFile: directory + "/sa.json", privateKeyPEM: pem)
    }

    func backendConfig(_ setup: Setup, extra: String = "", credentials: String? = nil) -> String {
        """
                  provider: gcp
                  endpoint: \(setup.fake.url)
                  secrets_endpoint: \(setup.fake.url)
                  \(credentials ?? "credentials_file: \(setup.keyFile)")
                  project: laforge-test
                  key_id: \(Self.keyName)
                  ca_file: \(setup.fake.pki.caFile)
                  max_attempts: 3
                  retry_base_ms: 5
        \(extra)
        """
    }

    @Test func theFakeIsProvenWithGooglesSDKs() throws {
        let setup = try setUp()
        let output = try runPython(
            fixtureURL("kms-fakes/gcp_sdk_check.py").path,
            ["127.0.0.1:\(setup.fake.port)", setup.keyFile, Self.keyName, "laforge-test", "db-password", Self.secretValue],
            environment: ["REQUESTS_CA_BUNDLE": setup.fake.pki.caFile])
        #expect(output.trimmingCharacters(in: .whitespacesAndNewlines) == "ok")
    }

    @Test func encryptDecryptSecretsAndEnvelopeThroughThePlugin() throws {
        let setup = try setUp()
        let log = CapturedLog()
        let runtime = try startKMSRuntime(backendConfig(setup), log: log)
        defer { runtime.close() }
        let backend = runtime.secretBackends[0]
        let context = Array(#"{"tenant":"acme"}"#.utf8)
        let ciphertext = try backend.encrypt(keyID: nil, plaintext: Array("gcp plaintext".utf8), context: context)
        #expect(try backend.decrypt(keyID: nil, ciphertext: ciphertext, context: context).unsafeStringValue() == "gcp plaintext")
        do {
            _ = try backend.decrypt(keyID: nil, ciphertext: ciphertext, context: Array(#"{"tenant":"globex"}"#.utf8))
            Issue.record("decrypted with another context")
        } catch {
            #expect(error.kind == .failed(.permanentError))
            #expect(error.description.contains("INVALID_ARGUMENT"))
        }
        #expect(try runtime.secrets.resolveSecret("kms/db-password").unsafeStringValue() == Self.secretValue)
        #expect(try runtime.secrets.resolveSecret("projects/laforge-test/secrets/db-password/versions/1").unsafeStringValue() == Self.secretValue)
        do {
            _ = try runtime.secrets.resolveSecret("kms/missing")
            Issue.record("a missing secret resolved")
        } catch {
            #expect(error.status == .notFound)
        }
        // Envelope encryption: GCP has no GenerateDataKey, so the host makes the data key and the
        // plugin wraps it with Cloud KMS.
        let cipher = try EnvelopeCipher(backend: backend)
        let field = try EnvelopeContext(tenant: "acme", fieldPath: "users.ssn")
        let sealed = try cipher.seal(Array("078-05-1120".utf8), context: field)
        #expect(try EnvelopeCipher(backend: backend).open(sealed, context: field).unsafeStringValue() == "078-05-1120")
        // The plugin sent CRC32C checksums with every request and got verified flags back; it
        // used one token for all of it.
        let tokenRequests = try setup.fake.requests().filter { $0["path"] == .string("/token") }
        #expect(tokenRequests.count == 1)
        expectNoSecrets(log.text, [Self.secretValue, "PRIVATE KEY", "ya29."])
    }

    @Test func expiredTokensAreRefreshedAndThrottlingRetried() throws {
        let setup = try setUp()
        let log = CapturedLog()
        let runtime = try startKMSRuntime(backendConfig(setup), log: log)
        defer { runtime.close() }
        let backend = runtime.secretBackends[0]
        _ = try backend.encrypt(keyID: nil, plaintext: [1], context: [])
        try setup.fake.control(#"{"expire_tokens": true}"#)
        _ = try backend.encrypt(keyID: nil, plaintext: [2], context: [])
        #expect(try setup.fake.requests().filter { $0["path"] == .string("/token") }.count == 2)

        try setup.fake.control(#"{"throttle": 2}"#)
        _ = try backend.encrypt(keyID: nil, plaintext: [3], context: [])
        #expect(log.text.contains("RESOURCE_EXHAUSTED"))
        #expect(log.text.contains("retrying"))

        try setup.fake.control(#"{"throttle": 5}"#)
        do {
            _ = try backend.encrypt(keyID: nil, plaintext: [4], context: [])
            Issue.record("throttled past max_attempts succeeded")
        } catch {
            #expect(error.kind == .failed(.retry))
            #expect(error.description.contains("gave up after 3 attempts"))
        }
        expectNoSecrets(log.text, [Self.secretValue, "ya29."])
    }

    @Test func corruptedChecksumsAndUnverifiedRequestsAreRejected() throws {
        let setup = try setUp()
        let log = CapturedLog()
        let runtime = try startKMSRuntime(backendConfig(setup), log: log)
        defer { runtime.close() }
        let backend = runtime.secretBackends[0]
        try setup.fake.control(#"{"corrupt_crc": 1}"#)
        do {
            _ = try backend.encrypt(keyID: nil, plaintext: [1, 2, 3], context: [])
            Issue.record("a corrupted ciphertext checksum was accepted")
        } catch {
            #expect(error.description.contains("ciphertext CRC32C mismatch"))
        }
        let ciphertext = try backend.encrypt(keyID: nil, plaintext: [1, 2, 3], context: [])
        try setup.fake.control(#"{"corrupt_crc": 1}"#)
        #expect(throws: PluginCallError.self) { try backend.decrypt(keyID: nil, ciphertext: ciphertext, context: []) }
        try setup.fake.control(#"{"unverified": 1}"#)
        do {
            _ = try backend.encrypt(keyID: nil, plaintext: [1], context: [])
            Issue.record("an unverified plaintext checksum was accepted")
        } catch {
            #expect(error.description.contains("verifiedPlaintextCrc32c"))
        }
        try setup.fake.control(#"{"corrupt_crc": 1}"#)
        #expect(throws: SecretResolutionError.self) { try runtime.secrets.resolveSecret("db-password") }
    }

    @Test func metadataServerTokensWork() throws {
        let setup = try setUp()
        let log = CapturedLog()
        let runtime = try startKMSRuntime(backendConfig(setup, credentials: "metadata_endpoint: \(setup.fake.url)"), log: log)
        defer { runtime.close() }
        #expect(try runtime.secrets.resolveSecret("db-password").unsafeStringValue() == Self.secretValue)
        let metadata = try setup.fake.requests().filter { $0["path"] == .string("/computeMetadata/v1/instance/service-accounts/default/token") }
        #expect(metadata.count == 1)
        #expect(metadata.first?["metadata_flavor"] == .string("Google"))
    }

    @Test func theConformanceKitPasses() throws {
        let setup = try setUp()
        try expectConformance(
            ["provider": "gcp", "endpoint": setup.fake.url, "secrets_endpoint": setup.fake.url, "credentials_file": setup.keyFile,
             "project": "laforge-test", "key_id": Self.keyName, "ca_file": setup.fake.pki.caFile],
            secret: "db-password")
    }
}
