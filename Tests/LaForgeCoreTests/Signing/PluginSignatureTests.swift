import Foundation
import Testing
@testable import LaForgeAudit
@testable import LaForgeCore
@testable import LaForgeGovernance
@testable import LaForgeIdentity
@testable import LaForgeJournal
@testable import LaForgePlugins
@testable import LaForgeSecrets
@testable import LaForgeTestSupport

@Suite struct PluginSignatureTests {
    /// A production config whose trusted key is `key`'s verifier key.
    func productionConfig(trusting key: Ed25519SigningKey, library: String) -> String {
        """
        version: 1
        mode: production
        trusted_keys:
          - name: \(key.name)
            public_key: \(Data(key.verifierKey.publicKey).base64EncodedString())
        audit:
          sinks:
            - name: sink
              library: \(library)
        """
    }

    @Test func keyIDFollowsC2SPSignedNote() throws {
        // C2SP signed-note: key id = SHA-256(name ‖ 0x0A ‖ 0x01 ‖ key)[0..<4], big-endian.
        let key = try Ed25519VerifierKey(name: "example.com/log", publicKey: Array(0..<32))
        let digest = SHA256.hash(Array("example.com/log".utf8) + [0x0A, 0x01] + Array(0..<32))
        #expect(key.keyIDHex == Array(digest[0..<4]).hexString)
        let parsed = try Ed25519VerifierKey(parsing: key.encoded)
        #expect(parsed == key)
    }

    @Test func keyFilesRoundTripAndThePrivateOneIsMode0600() throws {
        let directory = try makePluginDirectory([:])
        let key = try Ed25519SigningKey.generate(name: "release-2026")
        try KeyFileWriter.write(key, to: directory + "/release")
        var info = stat()
        #expect(stat(directory + "/release", &info) == 0)
        #expect(info.st_mode & 0o777 == 0o600)
        let reread = try Ed25519SigningKey(contentsOfFile: directory + "/release")
        #expect(reread.verifierKey == key.verifierKey)
        let publicText = try String(contentsOfFile: directory + "/release.pub", encoding: .utf8)
        #expect(try Ed25519VerifierKey(parsing: publicText) == key.verifierKey)
        #expect(throws: KeyFormatError.self) { try KeyFileWriter.write(key, to: directory + "/release") }
        #expect(!"\(key)".contains(key.encodedPrivateKey().split(separator: "+").last!))
    }

    @Test func productionRefusesAnUnsignedPlugin() throws {
        let directory = try makePluginDirectory(["libsink.so": "abi_1_0_sink.c"])
        let key = try Ed25519SigningKey.generate(name: "release")
        do {
            _ = try startRuntime(productionConfig(trusting: key, library: "libsink.so"), pluginDirectory: directory)
            Issue.record("an unsigned plugin loaded in production mode")
        } catch {
            guard case .plugin(let loadError) = error else { Issue.record("\(error)"); return }
            #expect(loadError.kind == .signature)
            #expect(loadError.message.contains("mode is production and the plugin is unsigned"))
        }
    }

    @Test func productionLoadsAPluginSignedByATrustedKey() throws {
        let directory = try makePluginDirectory(["libsink.so": "abi_1_0_sink.c"])
        let key = try Ed25519SigningKey.generate(name: "release")
        try PluginSignature.sign(libraryAt: directory + "/libsink.so", with: key)
        let runtime = try startRuntime(productionConfig(trusting: key, library: "libsink.so"), pluginDirectory: directory)
        runtime.close()
    }

    @Test func productionRefusesATamperedSignedPlugin() throws {
        let directory = try makePluginDirectory(["libsink.so": "abi_1_0_sink.c"])
        let key = try Ed25519SigningKey.generate(name: "release")
        try PluginSignature.sign(libraryAt: directory + "/libsink.so", with: key)
        let handle = try #require(FileHandle(forWritingAtPath: directory + "/libsink.so"))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data([0]))
        try handle.close()
        do {
            _ = try startRuntime(productionConfig(trusting: key, library: "libsink.so"), pluginDirectory: directory)
            Issue.record("a tampered plugin loaded")
        } catch {
            guard case .plugin(let loadError) = error else { Issue.record("\(error)"); return }
            #expect(loadError.kind == .signature)
            #expect(loadError.message.contains("modified after signing"))
        }
    }

    @Test func aSignatureByAnUntrustedKeyIsNotEnough() throws {
        let directory = try makePluginDirectory(["libsink.so": "abi_1_0_sink.c"])
        let trusted = try Ed25519SigningKey.generate(name: "release")
        let stranger = try Ed25519SigningKey.generate(name: "stranger")
        try PluginSignature.sign(libraryAt: directory + "/libsink.so", with: stranger)
        let verdict = PluginSignature.verify(libraryAt: directory + "/libsink.so", trustedKeys: [trusted.verifierKey])
        #expect(verdict == .invalid("signed only by keys that are not trusted: \(stranger.verifierKey)"))
    }

    @Test func aForgedSignatureUnderATrustedKeyNameIsRejected() throws {
        let directory = try makePluginDirectory(["libsink.so": "abi_1_0_sink.c"])
        let key = try Ed25519SigningKey.generate(name: "release")
        let sigPath = try PluginSignature.sign(libraryAt: directory + "/libsink.so", with: key)
        var text = try String(contentsOfFile: sigPath, encoding: .utf8)
        let other = Data(repeating: 7, count: 64).base64EncodedString()
        let line = text.split(separator: "\n")[2]
        text = text.replacingOccurrences(of: String(line), with: line.split(separator: " ")[0...1].joined(separator: " ") + " " + other)
        try text.write(toFile: sigPath, atomically: true, encoding: .utf8)
        let verdict = PluginSignature.verify(libraryAt: directory + "/libsink.so", trustedKeys: [key.verifierKey])
        #expect(verdict == .invalid("the signature by \(key.verifierKey) does not verify (forged or corrupted)"))
    }
}

@Suite struct KeyFormatTests {
    /// Standard base64 contains "+"; key texts must split only at the field separators. Many
    /// random keys make sure several have a "+" in their base64 part.
    @Test func keysWhoseBase64ContainsPlusRoundTrip() throws {
        var sawPlus = false
        for index in 0..<64 {
            let key = try Ed25519SigningKey.generate(name: "k\(index)")
            sawPlus = sawPlus || key.verifierKey.encoded.split(separator: "+").count > 3
            #expect(try Ed25519VerifierKey(parsing: key.verifierKey.encoded) == key.verifierKey)
            #expect(try Ed25519SigningKey(parsing: key.encodedPrivateKey()).verifierKey == key.verifierKey)
        }
        #expect(sawPlus)
    }
}
