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

/// The checkpoint signing key stored wrapped by AWS KMS (moto, signature checking on): written
/// wrapped by `laforge keys wrap`, unwrapped when the audit log opens, checkpoints verify with the
/// .pub key, and the plain key never reaches the disk.
@Suite(.serialized) struct WrappedCheckpointKeyTests {
    func writeConfig(_ sandbox: AuditSandbox, _ moto: MotoFixture, wrapped: Bool = true) throws {
        try writeWrappedCheckpointKeyConfig(sandbox, moto, backend: wrapped ? "kms" : nil)
    }

    @Test func aWrappedKeySignsCheckpointsThatVerify() throws {
        let moto = try MotoFixture.shared()
        let sandbox = try AuditSandbox()
        try writeConfig(sandbox, moto)
        let keyPath = sandbox.root + "/keys/checkpoint"
        try FileManager.default.createDirectory(atPath: sandbox.root + "/keys", withIntermediateDirectories: true)
        let wrap = try sandbox.laforge(["keys", "wrap", "--generate", "laforge-test", "--out", keyPath])
        #expect(wrap.status == 0, "\(wrap.output)")
        let stored = try String(contentsOfFile: keyPath, encoding: .utf8)
        #expect(stored.hasPrefix("WRAPPED+KEY+laforge-test+"))
        #expect(!stored.contains("PRIVATE"))
        let mode = try FileManager.default.attributesOfItem(atPath: keyPath)[.posixPermissions] as? Int
        #expect(mode == 0o600)

        for user in ["alice", "bob", "carol"] {
            let emit = try sandbox.laforge(["audit", "emit", "--actor", user, "--action", "schema.change"])
            #expect(emit.status == 0, "\(emit.output)")
            expectNoSecrets(emit.output, moto.secrets)
        }
        let verify = try sandbox.verifyChain(["--key", keyPath + ".pub"])
        #expect(verify.status == 0, "\(verify.result.output)")
        // Nothing on disk holds the plain key: only the wrapped file and the verifier key exist.
        let keyFiles = try FileManager.default.contentsOfDirectory(atPath: sandbox.root + "/keys").sorted()
        #expect(keyFiles == ["checkpoint", "checkpoint.pub"])
        let stateFiles = FileManager.default.enumerator(atPath: sandbox.stateDirectory)?.allObjects as? [String] ?? []
        for file in stateFiles {
            let text = (try? String(contentsOfFile: sandbox.stateDirectory + "/" + file, encoding: .utf8)) ?? ""
            #expect(!text.contains("PRIVATE+KEY"), "\(file) holds a plain signing key")
        }
    }

    @Test func misconfigurationsAreClearConfigErrors() throws {
        let moto = try MotoFixture.shared()
        let sandbox = try AuditSandbox()
        try FileManager.default.createDirectory(atPath: sandbox.root + "/keys", withIntermediateDirectories: true)
        let keyPath = sandbox.root + "/keys/checkpoint"
        // A plain key while key_wrapped_by is set: refused with the command that fixes it.
        try writeConfig(sandbox, moto)
        #expect(try CLIRunner.run(["keys", "generate", "--out", keyPath]).status == 0)
        let plain = try sandbox.laforge(["audit", "emit", "--actor", "u", "--action", "schema.change"])
        #expect(plain.status == 3)
        #expect(plain.stderr.contains("laforge keys wrap"))
        // A wrapped key without key_wrapped_by: refused, naming the setting.
        try FileManager.default.removeItem(atPath: keyPath)
        try FileManager.default.removeItem(atPath: keyPath + ".pub")
        #expect(try sandbox.laforge(["keys", "wrap", "--generate", "k", "--out", keyPath]).status == 0)
        try writeConfig(sandbox, moto, wrapped: false)
        let unwrapped = try sandbox.laforge(["audit", "emit", "--actor", "u", "--action", "schema.change"])
        #expect(unwrapped.status == 3)
        #expect(unwrapped.stderr.contains("key_wrapped_by"))
    }
}
