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

/// KMSSecrets against the Key Vault / Entra ID fake (Fixtures/kms-fakes/azure_fake.py), first proven
/// with azure-identity, azure-keyvault-keys and azure-keyvault-secrets: RSA-OAEP-256 wrap/unwrap with
/// the versioned kid kept across a key rotation, context binding, secrets, pinned api-version,
/// client-credentials and managed-identity tokens, refresh, throttling, refusals.
@Suite(.serialized) struct AzureKeyVaultTests {
    static let tenant = "3f1c0b9e-laforge-tenant"
    static let clientID = "laforge-client"
    static let clientSecret = "azs-" + randomBase64(18)
    static let secretValue = "az-" + randomBase64(18)

    func fake() throws -> KMSFakeServer {
        try KMSFakeServer(
            "azure_fake.py",
            ["--tenant", Self.tenant, "--client-id", Self.clientID, "--client-secret", Self.clientSecret, "--key-name", "wrapping",
             "--secret", "db-password=\(Self.secretValue)"],
            directory: try temporaryDirectory("laforge-azure"))
    }

    func backendConfig(_ fake: KMSFakeServer, secret: String = clientSecret, extra: String = "", credentials: String? = nil) -> String {
        """
                  provider: azure
                  vault_url: \(fake.url)
                  key_id: wrapping
                  ca_file: \(fake.pki.caFile)
                  max_attempts: 3
                  retry_base_ms: 5
                  retry_cap_ms: 50
        \(credentials ?? """
                  authority_host: \(fake.url)
                  tenant_id: \(Self.tenant)
                  client_id: \(Self.clientID)
                  client_secret: "\(secret)"
        """)
        \(extra)
        """
    }

    var secrets: [String] { [Self.clientSecret, Self.secretValue, "eyJ0eXAiOiJKV1QifQ.fake-"] }

    @Test func theFakeIsProvenWithMicrosoftsSDKs() throws {
        let fake = try fake()
        let output = try runPython(
            fixtureURL("kms-fakes/azure_sdk_check.py").path,
            [fake.url, Self.tenant, Self.clientID, Self.clientSecret, "wrapping", "db-password", Self.secretValue],
            environment: ["REQUESTS_CA_BUNDLE": fake.pki.caFile])
        #expect(output.trimmingCharacters(in: .whitespacesAndNewlines) == "ok")
    }

    @Test func wrapUnwrapAcrossARotationWithContextBinding() throws {
        let fake = try fake()
        let log = CapturedLog()
        let runtime = try startKMSRuntime(backendConfig(fake), log: log)
        defer { runtime.close() }
        let backend = runtime.secretBackends[0]
        let context = Array(#"{"tenant":"acme"}"#.utf8)
        let key = (0..<32).map { UInt8($0) }
        let first = try backend.encrypt(keyID: nil, plaintext: key, context: context)
        try fake.control(#"{"rotate": "wrapping"}"#)
        let second = try backend.encrypt(keyID: nil, plaintext: key, context: context)
        // Each ciphertext keeps the versioned kid it was wrapped with.
        let kids = [first, second].map { blob -> String in
            let length = Int(blob[1]) << 8 | Int(blob[2])
            return String(decoding: blob[3..<3 + length], as: UTF8.self)
        }
        #expect(kids[0] != kids[1])
        #expect(kids.allSatisfy { $0.hasPrefix(fake.url + "/keys/wrapping/") })
        for blob in [first, second] {
            #expect(try backend.decrypt(keyID: nil, ciphertext: blob, context: context).withUnsafeBytes(Array.init) == key)
        }
        do {
            _ = try backend.decrypt(keyID: nil, ciphertext: first, context: Array(#"{"tenant":"globex"}"#.utf8))
            Issue.record("unwrapped under another context")
        } catch {
            #expect(error.kind == .failed(.permanentError))
            #expect(error.description.contains("wrong context"))
        }
        // A ciphertext naming a key outside the vault is refused before any request (the token
        // must never go to another host).
        let evilKid = Array("https://evil.example/keys/wrapping/1".utf8)
        let forged = [1, UInt8(evilKid.count >> 8), UInt8(evilKid.count & 0xFF)] + evilKid + [UInt8](repeating: 7, count: 256)
        #expect(throws: PluginCallError.self) { try backend.decrypt(keyID: nil, ciphertext: forged, context: context) }

        #expect(try runtime.secrets.resolveSecret("kms/db-password").unsafeStringValue() == Self.secretValue)
        do {
            _ = try runtime.secrets.resolveSecret("kms/nope")
            Issue.record("a missing secret resolved")
        } catch {
            #expect(error.status == .notFound)
            #expect(error.message.contains("SecretNotFound"))
        }
        let cipher = try EnvelopeCipher(backend: backend)
        let field = try EnvelopeContext(tenant: "acme", fieldPath: "users.ssn")
        let sealed = try cipher.seal(Array("078-05-1120".utf8), context: field)
        #expect(try EnvelopeCipher(backend: backend).open(sealed, context: field).unsafeStringValue() == "078-05-1120")
        // Every vault request carried the pinned api-version.
        let vaultRequests = try fake.requests().filter { $0["api_version"] != nil }
        #expect(!vaultRequests.isEmpty)
        #expect(vaultRequests.allSatisfy { $0["api_version"] == .string("7.4") })
        expectNoSecrets(log.text, secrets)
    }

    /// The header's rule 7: a secret backend retries inside a call only within its documented
    /// deadline. The vault answers 429 with Retry-After: 1; waiting that second would pass
    /// retry_deadline_ms, so the call answers RETRY at once instead of sleeping.
    @Test func retriesStopAtTheDeadlineInsteadOfWaitingPastIt() throws {
        let fake = try fake()
        let log = CapturedLog()
        let config = backendConfig(fake).replacingOccurrences(
            of: "max_attempts: 3", with: "max_attempts: 5\n          retry_deadline_ms: 300"
        ).replacingOccurrences(of: "retry_cap_ms: 50", with: "retry_cap_ms: 5000")
        let runtime = try startKMSRuntime(config, log: log)
        defer { runtime.close() }
        try fake.control(#"{"throttle": 3}"#)
        let started = Date()
        do {
            _ = try runtime.secrets.resolveSecret("db-password")
            Issue.record("a throttled call succeeded within 300 ms")
        } catch {
            #expect(error.status == .retry)
            #expect(error.message.contains("gave up after 1 attempt: the next try, in 1000 ms, would pass retry_deadline_ms 300"), "\(error.message)")
        }
        #expect(Date().timeIntervalSince(started) < 1, "the call must not sleep through Retry-After")
        expectNoSecrets(log.text, secrets)
    }

    @Test func tokensRefreshThrottlingRetriesAndRefusalsAreClear() throws {
        let fake = try fake()
        let log = CapturedLog()
        let runtime = try startKMSRuntime(backendConfig(fake), log: log)
        defer { runtime.close() }
        let backend = runtime.secretBackends[0]
        _ = try backend.encrypt(keyID: nil, plaintext: [1], context: [])
        try fake.control(#"{"expire_tokens": true}"#)
        _ = try backend.encrypt(keyID: nil, plaintext: [2], context: [])
        #expect(try fake.requests().filter { $0["path"] == .string("/oauth2/token") }.count == 2)
        try fake.control(#"{"throttle": 2}"#)
        _ = try runtime.secrets.resolveSecret("db-password")
        #expect(log.text.contains("Throttled"))

        let wrongSecret = "not-" + Self.clientSecret
        let denied = try startKMSRuntime(backendConfig(fake, secret: wrongSecret), log: log)
        defer { denied.close() }
        do {
            _ = try denied.secrets.resolveSecret("db-password")
            Issue.record("a wrong client secret was accepted")
        } catch {
            #expect(error.status == .accessDenied)
            #expect(error.message.contains("invalid_client"))
            expectNoSecrets(error.description, secrets + [wrongSecret])
        }
        let oldVersion = try startKMSRuntime(backendConfig(fake, extra: "          api_version: \"7.2\""), log: log)
        defer { oldVersion.close() }
        do {
            _ = try oldVersion.secrets.resolveSecret("db-password")
            Issue.record("an unsupported api-version was accepted")
        } catch {
            #expect(error.message.contains("BadParameter"))
        }
        expectNoSecrets(log.text, secrets + [wrongSecret])
    }

    @Test func managedIdentityTokensWork() throws {
        let fake = try fake()
        let log = CapturedLog()
        let runtime = try startKMSRuntime(backendConfig(fake, credentials: "          managed_identity_endpoint: \(fake.url)"), log: log)
        defer { runtime.close() }
        #expect(try runtime.secrets.resolveSecret("db-password").unsafeStringValue() == Self.secretValue)
        let identity = try fake.requests().filter { $0["path"] == .string("/metadata/identity/oauth2/token") }
        #expect(identity.count == 1)
        #expect(identity.first?["metadata"] == .string("true"))
        #expect(identity.first?["resource"] == .string("https://vault.azure.net"))
    }

    @Test func theConformanceKitPasses() throws {
        let fake = try fake()
        try expectConformance(
            ["provider": "azure", "vault_url": fake.url, "key_id": "wrapping", "ca_file": fake.pki.caFile, "authority_host": fake.url,
             "tenant_id": Self.tenant, "client_id": Self.clientID, "client_secret": Self.clientSecret],
            secret: "db-password")
    }
}
