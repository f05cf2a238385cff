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

/// Receipt mode (a signed checkpoint covers every event when emit returns) and checkpoint key
/// rotation (old checkpoints keep verifying through `verifier_keys`).
@Suite struct AuditCheckpointTests {
    /// `laforge audit prove <seq>` and an independent check of its proof against the note.
    func expectProvable(_ seq: UInt64, in sandbox: AuditSandbox, keys: [Ed25519VerifierKey]) throws {
        let result = try sandbox.laforge(["audit", "prove", String(seq)])
        #expect(result.status == 0, "prove \(seq): \(result.output)")
        let proof = try JSONParser.parse(result.stdout)
        let leaf = try #require([UInt8](hexString: proof["leaf_hash"]?.stringValue ?? ""))
        let root = try #require([UInt8](hexString: proof["root_hash"]?.stringValue ?? ""))
        let size = UInt64(try #require(proof["tree_size"]?.intValue))
        let path = try #require(proof["proof"]?.arrayValue).compactMap { [UInt8](hexString: $0.stringValue ?? "") }
        #expect(size == seq + 1, "the newest checkpoint should be the receipt for \(seq)")
        #expect(MerkleTree.verifyInclusion(leafHash: leaf, index: seq, treeSize: size, proof: path, root: root))
        let note = try #require(proof["checkpoint"]?.stringValue)
        let checkpoint = try Checkpoint.open(note: note, verifiers: keys, expectedOrigin: "laforge/default").0
        #expect(checkpoint.rootHash == root)
        #expect(checkpoint.size == size)
        let entry = try #require(try sandbox.journalEntries().first { $0.seq == seq })
        #expect(entry.hash == leaf.hexString)
    }

    @Test func receiptModeCoversEachEventWhenEmitReturns() throws {
        let sandbox = try AuditSandbox()
        try sandbox.writeConfig(audit: """
              checkpoints:
                receipts: true
                every_entries: 0
                every_ms: 0
            """)
        // The host API without close(): only receipt mode can have signed anything yet.
        let log = try AuditLog.open(config: sandbox.config(), logger: CapturedLog().logger)
        defer { log.journal.close() }
        for seq in 0..<4 {
            let receipt = try #require(try log.emit(auditEvent("u\(seq)")))
            #expect(receipt.seq == UInt64(seq))
            try expectProvable(receipt.seq, in: sandbox, keys: log.verifierKeys)
        }

        // Without receipts nothing is due (no count, no time), so the newest event is not covered.
        try sandbox.writeConfig(audit: """
              checkpoints:
                every_entries: 0
                every_ms: 0
            """)
        let plain = try AuditLog.open(config: sandbox.config(), logger: CapturedLog().logger)
        defer { plain.journal.close() }
        let uncovered = try #require(try plain.emit(auditEvent("late")))
        let prove = try sandbox.laforge(["audit", "prove", String(uncovered.seq)])
        #expect(prove.status != 0)
        #expect(prove.stderr.contains("not covered"), "\(prove.output)")
    }

    @Test func rotatedSigningKeyStillVerifiesOldCheckpoints() throws {
        let sandbox = try AuditSandbox()
        for name in ["a", "b"] {
            let generated = try CLIRunner.run(["keys", "generate", "--out", sandbox.root + "/key-\(name)", "--name", "audit-\(name)"])
            #expect(generated.status == 0, "\(generated.output)")
        }
        let keyA = try Ed25519VerifierKey(parsing: sandbox.read(sandbox.root + "/key-a.pub").trimmingCharacters(in: .whitespacesAndNewlines))
        let withA = try sandbox.writeConfig(audit: """
              checkpoints:
                key_file: key-a
            """, named: "a.yaml")
        let withB = try sandbox.writeConfig(audit: """
              checkpoints:
                key_file: key-b
                verifier_keys: ["\(keyA.encoded)"]
            """, named: "b.yaml")
        let onlyB = try sandbox.writeConfig(audit: """
              checkpoints:
                key_file: key-b
            """, named: "only-b.yaml")

        for seq in 0..<3 {
            let emit = try sandbox.laforge(["audit", "emit", "--actor", "a\(seq)", "--action", "schema.change"], config: withA)
            #expect(emit.status == 0, "\(emit.output)")
        }
        for seq in 0..<3 {
            let emit = try sandbox.laforge(["audit", "emit", "--actor", "b\(seq)", "--action", "schema.change"], config: withB)
            #expect(emit.status == 0, "\(emit.output)")
        }
        let both = try sandbox.verifyChain(config: withB)
        #expect(both.status == 0, "\(both.result.output)")
        #expect(both.report?["entries"]?.intValue == 6)
        #expect(both.report?["checkpoints"]?.intValue == 6)

        let (status, report, result) = try sandbox.verifyChain(config: onlyB)
        #expect(status == 1, "\(result.output)")
        #expect(report?["failure"]?["kind"]?.stringValue == "checkpoint forged")
        let message = report?["failure"]?["message"]?.stringValue ?? ""
        #expect(message.contains("not signed by a trusted key") && message.contains(keyA.description), "\(message)")
    }
}
