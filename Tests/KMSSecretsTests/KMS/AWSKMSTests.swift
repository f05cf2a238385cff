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

/// KMSSecrets against moto with signature checking on: KMS round trips with encryption contexts,
/// boto3 decrypting what the plugin encrypted (and the reverse), Secrets Manager string/binary
/// secrets and stages, `${secret:}` resolution, refused keys, session tokens.
@Suite(.serialized) struct AWSKMSTests {
    @Test func encryptDecryptAndDataKeysRoundTripWithContext() throws {
        let moto = try MotoFixture.shared()
        let log = CapturedLog()
        let runtime = try startKMSRuntime(moto.backendConfig(), log: log)
        defer { runtime.close() }
        let backend = runtime.secretBackends[0]
        let context = Array(#"{"field":"users.ssn","tenant":"acme"}"#.utf8)
        let plaintext = Array("123-45-6789".utf8)
        let ciphertext = try backend.encrypt(keyID: nil, plaintext: plaintext, context: context)
        #expect(ciphertext.count > plaintext.count)
        #expect(try backend.decrypt(keyID: nil, ciphertext: ciphertext, context: context).unsafeStringValue() == "123-45-6789")
        // By alias too, and the key id may be omitted on decrypt (the blob names its key).
        let byAlias = try backend.encrypt(keyID: "alias/laforge-test", plaintext: plaintext, context: [])
        #expect(try backend.decrypt(keyID: nil, ciphertext: byAlias, context: []).count == plaintext.count)

        // Wrong context: refused as an invalid ciphertext, with a message saying so.
        do {
            _ = try backend.decrypt(keyID: nil, ciphertext: ciphertext, context: Array(#"{"field":"users.ssn","tenant":"evil"}"#.utf8))
            Issue.record("decrypt with another context succeeded")
        } catch {
            #expect(error.kind == .failed(.permanentError))
            #expect(error.description.contains("InvalidCiphertextException"))
        }
        // A ciphertext of one key given with another key id is refused by KMS.
        #expect(throws: PluginCallError.self) { try backend.decrypt(keyID: moto.otherKeyID, ciphertext: ciphertext, context: context) }

        let dataKey = try #require(try backend.generateDataKey(keyID: nil, length: 32, context: context))
        #expect(dataKey.plaintext.count == 32)
        let unwrapped = try backend.decrypt(keyID: nil, ciphertext: dataKey.wrapped, context: context)
        #expect(unwrapped.withUnsafeBytes(Array.init) == dataKey.plaintext.withUnsafeBytes(Array.init))
        expectNoSecrets(log.text, moto.secrets)
    }

    @Test func boto3DecryptsWhatThePluginEncryptedAndTheReverse() throws {
        let moto = try MotoFixture.shared()
        let log = CapturedLog()
        let runtime = try startKMSRuntime(moto.backendConfig(), log: log)
        defer { runtime.close() }
        let backend = runtime.secretBackends[0]
        let context = #"{"purpose":"cross-check","tenant":"acme"}"#
        let plaintext = (0..<48).map { UInt8($0 * 5 % 256) }
        let ciphertext = try backend.encrypt(keyID: nil, plaintext: plaintext, context: Array(context.utf8))
        func boto3(_ request: [String: Any]) throws -> JSONValue {
            var body = request
            body["url"] = moto.url
            body["key_id"] = moto.adminKeyID
            body["secret"] = moto.adminSecret
            body["context"] = ["purpose": "cross-check", "tenant": "acme"]
            let data = try JSONSerialization.data(withJSONObject: body)
            return try JSONParser.parse(try runPython(fixtureURL("kms-fakes/boto3_kms.py").path, [], stdin: String(decoding: data, as: UTF8.self)))
        }
        let decrypted = try boto3(["op": "decrypt", "ciphertext_b64": ciphertext.base64])
        #expect(decrypted["plaintext_b64"] == .string(plaintext.base64))
        #expect(decrypted["key"] == .string(moto.keyARN))

        let encrypted = try boto3(["op": "encrypt", "plaintext_b64": plaintext.base64, "kms_key_id": moto.keyID])
        guard case .string(let blob)? = encrypted["ciphertext_b64"], let bytes = Data(base64Encoded: blob) else {
            Issue.record("boto3 did not encrypt: \(encrypted)")
            return
        }
        let opened = try backend.decrypt(keyID: nil, ciphertext: Array(bytes), context: Array(context.utf8))
        #expect(opened.withUnsafeBytes(Array.init) == plaintext)
    }

    @Test func secretsManagerStringBinaryAndStagesResolveThroughTheConfig() throws {
        let moto = try MotoFixture.shared()
        let log = CapturedLog()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("laforge-kms-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let sinkPath = try CPluginBuilder.build(sourceURL("examples/example_plugin.c")).path
        // `${secret:…}` in a sink's config resolves through KMSSecrets (the example plugin logs
        // only that a token was configured, never its value).
        let runtime = try startKMSRuntime(
            moto.backendConfig(), log: log,
            extra: """
                audit:
                  sinks:
                    - name: example
                      library: \(sinkPath)
                      config:
                        path: \(directory)/sink.log
                        token: "${secret:kms/laforge/db-password}"
                """)
        defer { runtime.close() }
        #expect(log.text.contains("token configured"))
        #expect(try runtime.secrets.resolveSecret("kms/laforge/db-password").unsafeStringValue() == moto.dbPassword)
        #expect(try runtime.secrets.resolveSecret("laforge/db-password#AWSPREVIOUS").unsafeStringValue() == moto.previousPassword)
        let binary = try runtime.secrets.resolveSecret("kms/laforge/binary")
        #expect(binary.withUnsafeBytes { Array($0) }.map { String(format: "%02x", $0) }.joined() == moto.binaryHex)
        do {
            _ = try runtime.secrets.resolveSecret("kms/laforge/missing")
            Issue.record("a missing secret resolved")
        } catch {
            #expect(error.status == .notFound)
            #expect(error.message.contains("ResourceNotFoundException"))
        }
        expectNoSecrets(log.text, moto.secrets)
    }

    @Test func aWrongSecretKeyIsRefusedWithoutShowingIt() throws {
        let moto = try MotoFixture.shared()
        let log = CapturedLog()
        let wrongSecret = "WRONG" + String(moto.adminSecret.dropFirst(5))
        let runtime = try startKMSRuntime(moto.backendConfig(secret: wrongSecret), log: log)
        defer { runtime.close() }
        do {
            _ = try runtime.secretBackends[0].encrypt(keyID: nil, plaintext: [1, 2, 3], context: [])
            Issue.record("a wrong secret key was accepted")
        } catch {
            #expect(error.kind == .failed(.accessDenied))
            expectNoSecrets(error.description, moto.secrets + [wrongSecret])
        }
        // A user whose policy allows only kms:Decrypt may not encrypt.
        let limited = try startKMSRuntime(moto.backendConfig(accessKey: moto.limitedKeyID, secret: moto.limitedSecret), log: log)
        defer { limited.close() }
        #expect(throws: PluginCallError.self) { try limited.secretBackends[0].encrypt(keyID: nil, plaintext: [1], context: []) }
        expectNoSecrets(log.text, moto.secrets + [wrongSecret])
    }

    @Test func sessionTokenCredentialsWork() throws {
        let moto = try MotoFixture.shared()
        let output = try runPython(
            "-c",
            [
                """
                import boto3, json, sys
                sts = boto3.client("sts", endpoint_url=sys.argv[1], region_name="us-east-1", aws_access_key_id=sys.argv[2], aws_secret_access_key=sys.argv[3])
                c = sts.assume_role(RoleArn=sys.argv[4], RoleSessionName="laforge-test", DurationSeconds=900)["Credentials"]
                print(json.dumps({"id": c["AccessKeyId"], "secret": c["SecretAccessKey"], "token": c["SessionToken"]}))
                """, moto.url, moto.adminKeyID, moto.adminSecret, moto.roleARN,
            ])
        let json = try JSONParser.parse(output)
        guard case .string(let id)? = json["id"], case .string(let secret)? = json["secret"], case .string(let token)? = json["token"] else {
            Issue.record("no session credentials: \(output)")
            return
        }
        let log = CapturedLog()
        let runtime = try startKMSRuntime(
            moto.backendConfig(accessKey: id, secret: secret, extra: "          session_token: \"\(token)\""), log: log)
        defer { runtime.close() }
        let ciphertext = try runtime.secretBackends[0].encrypt(keyID: nil, plaintext: Array("hello".utf8), context: [])
        #expect(try runtime.secretBackends[0].decrypt(keyID: nil, ciphertext: ciphertext, context: []).unsafeStringValue() == "hello")
        expectNoSecrets(log.text, [secret, token])
        // The same key without its token is refused: the token really is checked.
        let tokenless = try startKMSRuntime(moto.backendConfig(accessKey: id, secret: secret), log: log)
        defer { tokenless.close() }
        #expect(throws: PluginCallError.self) { try tokenless.secretBackends[0].encrypt(keyID: nil, plaintext: [1], context: []) }
    }

    @Test func theConformanceKitPasses() throws {
        let moto = try MotoFixture.shared()
        try expectConformance(
            ["provider": "aws", "region": "us-east-1", "endpoint": moto.url, "secrets_endpoint": moto.url, "key_id": moto.keyID,
             "access_key_id": moto.adminKeyID, "secret_access_key": moto.adminSecret, "credential_sources": ["config"]],
            secret: "laforge/db-password")
    }
}
