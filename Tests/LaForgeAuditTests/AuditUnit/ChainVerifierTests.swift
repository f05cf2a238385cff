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
        // Found at entry 13's prev_hash, named at entry 12's location.
        #expect(failure.location == "item \(index)")
        #expect(failure.message.hasPrefix("entry 12's hash "))
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

    @Test func linkOnBorrowedBytesAgreesWithTheArrayForm() throws {
        let hash = (0..<32).map { UInt8($0 * 7 & 0xFF) }
        let bytes = AuditEntry.bytes(chainID: "c-1", event: Array(#"{"a":1}"#.utf8), seq: 9_876_543_210, prevHash: hash)
        let link = try #require(bytes.withUnsafeBytes { AuditEntry.link($0) })
        #expect(link.seq == 9_876_543_210)
        #expect(link.prevHash == ChainHash(hash))
        #expect(bytes[link.chainID] == Array("c-1".utf8)[...])
        // Upper-case hex reads as before (the hash, not the parser, rejects the edit).
        var upper = bytes
        let hex = hash.hexString
        let hexStart = bytes.count - #"","seq":9876543210,"v":1}"#.utf8.count - 64
        upper.replaceSubrange(hexStart..<(hexStart + 64), with: hex.uppercased().utf8)
        #expect(AuditEntry.link(upper)?.prevHash == hash)
        var notHex = bytes
        notHex[hexStart + 63] = UInt8(ascii: "g")
        #expect(AuditEntry.link(notHex) == nil)
        #expect(AuditEntry.link(Array(bytes.dropLast())) == nil)
        #expect(AuditEntry.link(Array(bytes.prefix(90))) == nil)
        var noDigits = bytes
        noDigits.replaceSubrange((bytes.count - 17)..<(bytes.count - 7), with: Array("xxxxxxxxxx".utf8))
        #expect(AuditEntry.link(noDigits) == nil)
    }

    @Test func anEntryOfAnotherChainIsNamed() throws {
        let event = JSONCanonicalizer.canonicalize(["action": "schema.change"])
        let bytes = AuditEntry.bytes(chainID: "other", event: event, seq: 0, prevHash: Array(repeating: 0, count: 32))
        let failure = try #require(verify([.entry(bytes)]).failure)
        #expect(failure.kind == .contentChanged)
        #expect(failure.description == #"content changed at seq 0 (item 0): belongs to chain "other", not "test""#)
    }

    /// A FileSink file of the chain: entry lines verbatim, checkpoint lines as JSON.
    func fileLines(_ items: [Item]) -> [[UInt8]] {
        items.map { item in
            switch item {
            case .entry(let bytes): bytes
            case .checkpoint(let note): JSONCanonicalizer.canonicalize(["checkpoint": .string(note)])
            }
        }
    }

    func verifyFile(_ lines: [[UInt8]], trailingNewline: Bool = true) throws -> (VerificationReport, String) {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("verify-\(UUID().uuidString).ndjson").path
        var content = lines.joined(separator: [0x0A]).map { $0 }
        if trailingNewline, !lines.isEmpty { content.append(0x0A) }
        try Data(content).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let verifier = ChainVerifier(verifierKeys: [key.verifierKey], origin: origin, chainID: "test")
        return (ChainSource.verifyFiles([path], verifier: verifier), path)
    }

    @Test func aFileVerifiesAndNamesLines() throws {
        let lines = fileLines(try chain(40, every: 10))
        let (report, _) = try verifyFile(lines)
        #expect(report.isValid, "\(String(describing: report.failure))")
        #expect(report.entries == 40)
        #expect(report.checkpoints == 4)

        var changed = lines
        changed[13][30] ^= 0x01  // entry 12: lines 1–10 are entries 0–9, line 11 a checkpoint
        let (bad, path) = try verifyFile(changed)
        #expect(bad.failure?.seq == 12)
        #expect(bad.failure?.location == "\(path):14")

        // Without the final checkpoint, the file ends in entry 39 with no newline.
        let (torn, tornPath) = try verifyFile(Array(lines.dropLast()), trailingNewline: false)
        #expect(
            torn.failure?.description
                == "malformed at seq 39 (\(tornPath):\(lines.count - 1)): the last line has no newline: the file was truncated or a write was torn")
        #expect(torn.entries == 39)
    }

    @Test func anUnreadableFileIsMalformed() {
        let verifier = ChainVerifier(verifierKeys: [key.verifierKey], origin: origin, chainID: "test")
        let report = ChainSource.verifyFiles(["/nonexistent/audit.ndjson"], verifier: verifier)
        #expect(report.failure?.description == "malformed (/nonexistent/audit.ndjson): cannot read the file")
    }

    @Test func theLineReaderHandsOutLinesAcrossBlocks() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("lines-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        // Lines shorter than, equal to and longer than the 16-byte first block, and empty ones.
        let lines = ["a", "", String(repeating: "b", count: 15), String(repeating: "c", count: 16), String(repeating: "d", count: 100), "", "e"]
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: path))
        let reader = LineReader(blockSize: 16)
        var seen: [String] = []
        var offsets: [UInt64] = []
        let end = reader.forEachLine(ofFileAt: path) { line, number, offset in
            #expect(number == seen.count + 1)
            seen.append(String(decoding: line, as: UTF8.self))
            offsets.append(offset)
            return true
        }
        #expect(seen == lines)
        let size = UInt64(lines.reduce(0) { $0 + $1.utf8.count + 1 })
        guard case .complete(let total) = end else { Issue.record("\(end)"); return }
        #expect(total == size)
        #expect(offsets.last == size)

        try Data("one\ntwo".utf8).write(to: URL(fileURLWithPath: path))
        guard case .unterminatedLine(2) = reader.forEachLine(ofFileAt: path, { _, _, _ in true }) else {
            Issue.record("an unterminated line is reported with its number"); return
        }
        guard case .stopped = reader.forEachLine(ofFileAt: path, { _, _, _ in false }) else {
            Issue.record("the visitor stops the walk"); return
        }
        try Data().write(to: URL(fileURLWithPath: path))
        guard case .complete(0) = reader.forEachLine(ofFileAt: path, { _, _, _ in true }) else {
            Issue.record("an empty file has no lines"); return
        }
    }
}
