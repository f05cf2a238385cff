import Foundation
import Testing
@testable import LaForgeTestSupport

@testable import LaForgeAudit
@testable import LaForgeCore
@testable import LaForgePlugins

/// Whoever controls the state directory can replace the checkpoint key next to the journal and
/// re-sign a rewritten chain. In mode: production `verify chain` therefore trusts only keys pinned in
/// the configuration (audit.checkpoints.verifier_keys) or given with --key, and it reports which
/// keys it trusted and from where.
@Suite struct VerifierKeyPinningTests {
    let sandbox: AuditSandbox

    init() throws { sandbox = try AuditSandbox() }

    /// Writes events through the host in development mode (which generates the key in
    /// state_dir/keys/checkpoint) and returns the verifier key it made.
    func writeChain(users: [String]) throws -> Ed25519VerifierKey {
        try sandbox.writeConfig(audit: "  checkpoints:\n    every_entries: 2\n    every_ms: 0\n")
        let log = try AuditLog.open(config: sandbox.config(), logger: CapturedLog().logger)
        for user in users { try log.emit(auditEvent(user)) }
        try log.close()
        return try Ed25519VerifierKey(parsing: sandbox.read(sandbox.stateDirectory + "/keys/checkpoint.pub"))
    }

    /// A production configuration of the same state directory, pinning `pinned`.
    func productionConfig(pinning pinned: [Ed25519VerifierKey]) throws -> String {
        let path = sandbox.root + "/production.yaml"
        let release = try Ed25519SigningKey.generate(name: "release")
        try """
            version: 1
            mode: production
            state_dir: \(sandbox.stateDirectory)
            trusted_keys:
              - name: release
                public_key: \(Data(release.verifierKey.publicKey).base64EncodedString())
            audit:
              checkpoints:
                verifier_keys: [\(pinned.map { "\"\($0.encoded)\"" }.joined(separator: ", "))]
            """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func productionTrustsOnlyPinnedKeysSoARewrittenChainFails() throws {
        let original = try writeChain(users: ["alice", "bob", "carol", "dave"])
        let production = try productionConfig(pinning: [original])
        let honest = try sandbox.verifyChain(config: production)
        #expect(honest.status == 0, "\(honest.result.output)")
        #expect(honest.report?["trusted_keys"] == .array([
            .object(["key": .string(original.description), "source": .string("audit.checkpoints.verifier_keys[0] in production.yaml"), "pinned": true])
        ]))

        // The attacker owns the state directory: a new history under a new key of their own.
        try FileManager.default.removeItem(atPath: sandbox.stateDirectory)
        let forged = try writeChain(users: ["mallory", "mallory"])
        #expect(forged != original)
        let rewritten = try sandbox.verifyChain(config: production)
        #expect(rewritten.status == 1, "a chain re-signed with the state directory's new key verified: \(rewritten.result.output)")
        #expect(rewritten.report?["trusted_keys"]?.arrayValue?.count == 1)
        // Development (same files) still trusts the key next to the journal, and says so.
        let development = try sandbox.verifyChain()
        #expect(development.status == 0)
        #expect(development.report?["trusted_keys"]?.arrayValue?.first?["source"]?.stringValue
            == "the signer's key file \(sandbox.stateDirectory)/keys/checkpoint.pub (development mode only)")
        #expect(development.report?["trusted_keys"]?.arrayValue?.first?["pinned"] == false)
    }

    @Test func productionWithoutAPinnedKeyRefusesAndSaysHowToPinOne() throws {
        let key = try writeChain(users: ["alice", "bob"])
        let production = try productionConfig(pinning: [])
        let refused = try sandbox.laforge(["verify", "chain"], config: production)
        #expect(refused.status == 3, "\(refused.output)")
        #expect(refused.stderr.contains("no pinned checkpoint verifier key: in mode: production the verifier never trusts the key next to the journal"))
        // The key given on the command line is pinned too, and named in the text report.
        let pub = sandbox.root + "/pinned.pub"
        try (key.encoded + "\n").write(toFile: pub, atomically: true, encoding: .utf8)
        let pinned = try sandbox.laforge(["verify", "chain", "--key", pub], config: production)
        #expect(pinned.status == 0, "\(pinned.output)")
        #expect(pinned.stdout.contains("trusted checkpoint key \(key) from --key \(pub)"), "\(pinned.stdout)")
    }
}
