import Foundation
import Testing
@testable import LaForgeTestSupport

@testable import LaForgeCore
@testable import LaForgePlugins

/// One public-key format across the tools: the `.pub` file `laforge keys generate` writes (the
/// C2SP verifier key `NAME+KEYID+BASE64`) is accepted by `trusted_keys`, inline or as a file, as
/// `plugins verify --key` accepts it; so are the bare key in base64 and its raw bytes.
@Suite struct TrustedKeyFormTests {
    static func generatedKey(in directory: String) throws -> (pub: String, key: Ed25519VerifierKey) {
        let signer = try Ed25519SigningKey.generate(name: "release-2026")
        let path = directory + "/release.pub"
        try Data((signer.verifierKey.encoded + "\n").utf8).write(to: URL(fileURLWithPath: path))
        return (path, signer.verifierKey)
    }

    func trustedKeys(_ entry: String, baseDirectory: String) throws -> [TrustedKey] {
        try LaForgeConfig.parse(
            text: "version: 1\ntrusted_keys:\n  - name: release\n    \(entry)\n", sourceName: "laforge.yaml",
            baseDirectory: baseDirectory
        ).trustedKeys
    }

    @Test func everyFormOfTheSameKeyGivesTheSameKey() throws {
        let directory = try temporaryDirectory("trusted-key")
        let (pub, key) = try Self.generatedKey(in: directory)
        try Data(key.publicKey).write(to: URL(fileURLWithPath: directory + "/raw.key"))
        let base64 = Data(key.publicKey).base64EncodedString()
        try Data((base64 + "\n").utf8).write(to: URL(fileURLWithPath: directory + "/bare.b64"))

        for entry in [
            "public_key_file: \(pub)", "public_key_file: release.pub", "public_key: \"\(key.encoded)\"",
            "public_key: \(base64)", "public_key_file: raw.key", "public_key_file: bare.b64",
        ] {
            let keys = try trustedKeys(entry, baseDirectory: directory)
            #expect(keys.map(\.publicKey) == [key.publicKey], "\(entry)")
        }
    }

    @Test func anEditedKeyFileIsRefusedWithTheReason() throws {
        let directory = try temporaryDirectory("trusted-key")
        let (pub, key) = try Self.generatedKey(in: directory)
        // Another name with the same key: the embedded key id no longer matches.
        let renamed = key.encoded.replacingOccurrences(of: "release-2026+", with: "release-2027+")
        try Data(renamed.utf8).write(to: URL(fileURLWithPath: pub))
        #expect(throws: ConfigError.self) { try trustedKeys("public_key_file: release.pub", baseDirectory: directory) }
        do {
            _ = try trustedKeys("public_key_file: release.pub", baseDirectory: directory)
        } catch {
            #expect(String(describing: error).hasPrefix("laforge.yaml:4:22: trusted_keys[0].public_key_file: \(pub): verifier key release-2027: key id"), "\(error)")
        }
        try Data("not a key at all\n".utf8).write(to: URL(fileURLWithPath: pub))
        do {
            _ = try trustedKeys("public_key_file: release.pub", baseDirectory: directory)
            Issue.record("garbage accepted as a key")
        } catch {
            #expect(String(describing: error).contains("not a public key: give the NAME+KEYID+BASE64 line"), "\(error)")
        }
    }
}
