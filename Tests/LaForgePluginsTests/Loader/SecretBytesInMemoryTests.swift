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
        // A few tries: the memory map can change under the scan while other tests run.
        #expect(try (0..<3).contains { _ in try ProcessMemoryScan.contains(masked: masked, mask: 0x5A) })
        withExtendedLifetime(opened) {}
    }
}
