import Foundation
import Testing
@testable import LaForgeHost

/// The verifier on chains built in memory: every kind of damage is named with its seq.
@Suite struct ChainVerifierTests {
    let key = try! Ed25519SigningKey.generate(name: "test-log")
    let origin = "laforge/test"

    enum Item { case entry([UInt8]), checkpoint(String) }

    /// `count` entries with a checkpoint after every `every` entries (and at the end).
    func chain(_ count: Int, every: Int) throws -> [Item] {
        var items: [Item] = []
        var previous = [UInt8](repeating: 0, count: 32)
        var frontier = MerkleFrontier()
        for seq in 0..<count {
            let event = JSONCanonicalizer.canonicalize(["action": "schema.change", "n": .number(Double(seq))])
            let bytes = AuditEntry.bytes(chainID: "test", event: event, seq: UInt64(seq), prevHash: previous)
            previous = SHA256.leafHash(bytes)
            frontier.append(previous)
            items.append(.entry(bytes))
            if (seq + 1) % every == 0 || seq + 1 == count {
                let checkpoint = try Checkpoint(
                    origin: origin, size: frontier.size, rootHash: frontier.root(),
                    extensions: [ChainVerifier.frontierExtensionPrefix + Data(frontier.serialized).base64EncodedString()])
                items.append(.checkpoint(checkpoint.signedNote(signers: [key])))
            }
        }
        return items
    }

    func verify(_ items: [Item], keys: [Ed25519VerifierKey]? = nil) -> VerificationReport {
        let verifier = ChainVerifier(verifierKeys: keys ?? [key.verifierKey], origin: origin, chainID: "test")
        for (index, item) in items.enumerated() {
            switch item {
            case .entry(let bytes): verifier.entry(bytes, location: "item \(index)")
            case .checkpoint(let note): verifier.checkpoint(note, location: "item \(index)")
            }
        }
        return verifier.finish()
    }

    func entryIndex(_ items: [Item], seq: Int) -> Int {
        var seen = -1
        for (index, item) in items.enumerated() {
            if case .entry = item { seen += 1; if seen == seq { return index } }
        }
        return -1
    }

    @Test func anIntactChainVerifies() throws {
        let report = verify(try chain(50, every: 7))
        #expect(report.isValid)
        #expect(report.entries == 50)
        #expect(report.checkpoints == 8)
        #expect(report.signaturesChecked == 8)
    }

    @Test func aChangedEntryIsNamed() throws {
        var items = try chain(30, every: 10)
        let index = entryIndex(items, seq: 12)
        guard case .entry(var bytes) = items[index] else { return }
        bytes[30] ^= 0x01
        items[index] = .entry(bytes)
        let failure = try #require(verify(items).failure)
        #expect(failure.kind == .contentChanged)
        #expect(failure.seq == 12)
    }

    @Test func aMissingEntryIsNamed() throws {
        var items = try chain(30, every: 10)
        items.remove(at: entryIndex(items, seq: 4))
        let failure = try #require(verify(items).failure)
        #expect(failure.kind == .entryMissing)
        #expect(failure.seq == 4)
    }

    @Test func swappedEntriesAreReordered() throws {
        var items = try chain(30, every: 10)
        items.swapAt(entryIndex(items, seq: 4), entryIndex(items, seq: 5))
        let failure = try #require(verify(items).failure)
        #expect(failure.kind == .reordered)
        #expect(failure.seq == 4)
    }

    @Test func anEditedCheckpointIsForged() throws {
        var items = try chain(20, every: 10)
        guard case .checkpoint(let note) = items[10] else { Issue.record("layout"); return }
        items[10] = .checkpoint(note.replacingOccurrences(of: "\n10\n", with: "\n9\n"))
        let failure = try #require(verify(items).failure)
        #expect(failure.kind == .checkpointForged)
    }

    @Test func aCheckpointByAnUnknownKeyIsForged() throws {
        var items = try chain(20, every: 10)
        let stranger = try Ed25519SigningKey.generate(name: "stranger")
        guard case .checkpoint(let note) = items[10] else { Issue.record("layout"); return }
        let body = note.components(separatedBy: "\n\n")[0] + "\n"
        let lines = body.split(separator: "\n").map(String.init)
        let checkpoint = try Checkpoint(
            origin: lines[0], size: UInt64(lines[1])!, rootHash: Array(Data(base64Encoded: lines[2])!), extensions: Array(lines[3...]))
        items[10] = .checkpoint(checkpoint.signedNote(signers: [stranger]))
        let failure = try #require(verify(items).failure)
        #expect(failure.kind == .checkpointForged)
        #expect(failure.message.contains("stranger"))
    }

    @Test func truncationBeforeACheckpointIsMissingEntries() throws {
        var items = try chain(20, every: 10)
        items.remove(at: entryIndex(items, seq: 19))
        let failure = try #require(verify(items).failure)
        #expect(failure.kind == .entryMissing)
        #expect(failure.seq == 19)
    }

    @Test func aSuffixStartingAtACheckpointVerifiesAlone() throws {
        let items = try chain(30, every: 10)
        // Everything from the checkpoint of size 10 on: a rotated file's content.
        let report = verify(Array(items[10...]))
        #expect(report.isValid, "\(String(describing: report.failure))")
        #expect(report.firstSeq == 10)
        #expect(report.entries == 20)
    }

    @Test func entriesAfterTheLastCheckpointAreAWarningNotAFailure() throws {
        var items = try chain(10, every: 5)
        items.removeLast()
        let report = verify(items)
        #expect(report.isValid)
        #expect(report.warnings.first?.contains("not yet covered by a signature") == true)
    }

    @Test func linkFieldsAreReadFromTheTail() throws {
        let bytes = AuditEntry.bytes(chainID: "c-1", event: Array(#"{"a":",\"seq\":1"}"#.utf8), seq: 123_456, prevHash: Array(repeating: 0xAB, count: 32))
        let link = try #require(AuditEntry.link(bytes))
        #expect(link.seq == 123_456)
        #expect(link.prevHash == Array(repeating: 0xAB, count: 32))
        #expect(link.chainID == "c-1")
        #expect(try AuditEntry.parse(bytes).seq == 123_456)
    }
}
