import Foundation
import Testing
@testable import LaForgeTestSupport

@testable import LaForgeCore
@testable import LaForgePlugins

/// Plaintext a secret backend hands the host lives in one place, a `SecretValue` (locked, zeroed on
/// release), from the plugin's buffer to the caller: no Swift array or String copy of it is left
/// behind in the heap once the value is released. The scan searches the whole writable memory of
/// the test process for the plaintext (Fixtures/plugins/toy_kms.c: ciphertext = plaintext XOR 0x5A
/// with a checksum frame, so the test never holds the plaintext itself).
@Suite(.serialized) struct SecretBytesInMemoryTests {
    /// toy_kms's ciphertext frame for `body` (already XORed with 0x5A) under an empty context.
    static func toyCiphertext(body: [UInt8]) -> [UInt8] {
        func fnv1a(_ bytes: [UInt8]) -> UInt64 {
            bytes.reduce(14_695_981_039_346_656_037 as UInt64) { ($0 ^ UInt64($1)) &* 1_099_511_628_211 }
        }
        func little(_ value: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }
        let head = little(fnv1a([])) + body
        return head + little(fnv1a(head))
    }

    func backend() throws -> (PluginRuntime, SecretBackendInstance) {
        let directory = try makePluginDirectory(["libtoy_kms.so": "toy_kms.c"])
        let runtime = try startRuntime(
            "version: 1\nsecret_backends:\n  - name: kms\n    library: libtoy_kms.so\n", pluginDirectory: directory)
        return (runtime, runtime.secretBackends[0])
    }

    @Test func decryptedPlaintextLeavesNoCopyBehindOnceReleased() throws {
        let (runtime, backend) = try backend()
        defer { runtime.close() }
        var masked = [UInt8](repeating: 0, count: 96)
        for index in masked.indices { masked[index] = UInt8.random(in: 0...255) }
        let ciphertext = Self.toyCiphertext(body: masked)
        for _ in 0..<8 {
            let opened = try backend.decrypt(keyID: nil, ciphertext: ciphertext, context: [])
            #expect(opened.count == masked.count)
        }
        #expect(try !ProcessMemoryScan.contains(masked: masked, mask: 0x5A), "a copy of the decrypted plaintext is left in memory")
    }

    @Test func theScanFindsPlaintextThatIsStillHeld() throws {
        let (runtime, backend) = try backend()
        defer { runtime.close() }
        var masked = [UInt8](repeating: 0, count: 96)
        for index in masked.indices { masked[index] = UInt8.random(in: 0...255) }
        let opened = try backend.decrypt(keyID: nil, ciphertext: Self.toyCiphertext(body: masked), context: [])
        // Several tries, a moment apart: the memory map can change under the scan while other
        // tests' threads map and unmap (seen to miss in a busy parallel run, never when alone).
        #expect(try (0..<10).contains { attempt in
            if attempt > 0 { usleep(50_000) }
            return try ProcessMemoryScan.contains(masked: masked, mask: 0x5A)
        })
        withExtendedLifetime(opened) {}
    }

    /// A `${secret:…}` in a sink's configuration goes from the backend's buffer into the locked
    /// configuration buffer the sink's create reads, and nowhere else: after the runtime closes,
    /// no copy of it is left (before, it passed through the YAML scalar's String and the
    /// normalized JSON String, freed unwiped).
    @Test func aSecretResolvedIntoASinkConfigurationLeavesNoCopyOnceReleased() throws {
        let directory = try makePluginDirectory(["libmasked.so": "masked_secret_config.c"])
        // Printable plaintext (a configuration value is text); the test holds only its masked form.
        let masked = (0..<64).map { _ in UInt8.random(in: UInt8(ascii: "a")...UInt8(ascii: "z")) ^ 0x5A }
        let hex = masked.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
        for _ in 0..<4 {
            let runtime = try startRuntime(
                """
                version: 1
                secret_backends:
                  - name: kms
                    library: libmasked.so
                audit:
                  sinks:
                    - name: sink
                      library: libmasked.so
                      config:
                        token: "Bearer ${secret:kms/\(hex)}"
                """, pluginDirectory: directory)
            #expect(runtime.sinks.count == 1)
            runtime.close()
        }
        #expect(try !ProcessMemoryScan.contains(masked: masked, mask: 0x5A), "a copy of the resolved secret is left in memory")
    }
}
