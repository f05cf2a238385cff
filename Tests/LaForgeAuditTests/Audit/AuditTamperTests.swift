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

/// `laforge verify chain` names the first bad seq and what is wrong for each way a stored chain
/// can be tampered with: a FileSink file (20 entries, a checkpoint every 5, so line
/// `seq + seq / 5` holds entry `seq` and the checkpoint of size 5c follows entry 5c - 1), and
/// the journal's own segment file.
@Suite struct AuditTamperTests {
    /// A sandbox whose FileSink file holds entries 0…19 and checkpoints of size 5, 10, 15, 20.
    func deliveredChain() throws -> (sandbox: AuditSandbox, lines: [String]) {
        let sandbox = try AuditSandbox()
        try sandbox.writeConfig(audit: """
              checkpoints:
                every_entries: 5
                every_ms: 0
              sinks:
                - name: file
                  library: libFileSink.so
                  config:
                    path: \(sandbox.root)/sink/audit.ndjson
            """)
        let log = try AuditLog.open(config: sandbox.config(), logger: CapturedLog().logger)
        for seq in 0..<20 {
            try log.emit(auditEvent("user-\(seq < 10 ? "0" : "")\(seq)"))
        }
        try log.close()
        let deliver = try sandbox.laforge(["audit", "deliver", "--timeout", "30"])
        #expect(deliver.status == 0, "\(deliver.output)")
        let lines = try sandbox.read(sandbox.root + "/sink/audit.ndjson").split(separator: "\n").map(String.init)
        #expect(lines.count == 24)
        let pristine = try sandbox.verifyChain(["--sink", "file"])
        #expect(pristine.status == 0, "\(pristine.result.output)")
        #expect(pristine.report?["checkpoints"]?.intValue == 4)
        return (sandbox, lines)
    }

    /// Verifies `lines` written to a file of their own; `rawText` replaces the joined lines.
    func verify(
        _ sandbox: AuditSandbox, _ name: String, lines: [String], rawText: String? = nil
    ) throws -> (kind: String?, seq: Int?, location: String, message: String) {
        let path = sandbox.root + "/\(name).ndjson"
        try (rawText ?? lines.map { $0 + "\n" }.joined()).write(toFile: path, atomically: true, encoding: .utf8)
        let (status, report, result) = try sandbox.verifyChain(["--file", path])
        #expect(status == 1, "\(name): \(result.output)")
        #expect(report?["valid"]?.boolValue == false, "\(name): \(result.output)")
        let failure = report?["failure"]
        return (
            failure?["kind"]?.stringValue, failure?["seq"]?.intValue, failure?["location"]?.stringValue ?? "",
            failure?["message"]?.stringValue ?? ""
        )
    }

    static func index(ofEntry seq: Int) -> Int { seq + seq / 5 }
    static func index(ofCheckpoint size: Int) -> Int { size + size / 5 - 1 }

    @Test func fileSinkTampering() throws {
        let (sandbox, lines) = try deliveredChain()

        // A flipped byte in the middle: the next entry's prev_hash no longer matches.
        var flipped = lines
        flipped[Self.index(ofEntry: 7)] = flipped[Self.index(ofEntry: 7)].replacingOccurrences(of: "user-07", with: "user-0X")
        var failure = try verify(sandbox, "flip-middle", lines: flipped)
        #expect(failure.kind == "content changed")
        #expect(failure.seq == 7)

        // A flipped byte in the last entry before a checkpoint: the signed root no longer matches.
        flipped = lines
        flipped[Self.index(ofEntry: 9)] = flipped[Self.index(ofEntry: 9)].replacingOccurrences(of: "user-09", with: "user-0X")
        failure = try verify(sandbox, "flip-before-checkpoint", lines: flipped)
        #expect(failure.kind == "content changed")
        #expect(failure.seq == 9)

        var deleted = lines
        deleted.remove(at: Self.index(ofEntry: 12))
        failure = try verify(sandbox, "deleted", lines: deleted)
        #expect(failure.kind == "entry missing")
        #expect(failure.seq == 12)

        var swapped = lines
        swapped.swapAt(Self.index(ofEntry: 12), Self.index(ofEntry: 13))
        failure = try verify(sandbox, "swapped", lines: swapped)
        #expect(failure.kind == "reordered")
        #expect(failure.seq == 12)

        // Checkpoint lines edited after signing: the size, then the root.
        var resized = lines
        let checkpoint10 = Self.index(ofCheckpoint: 10)
        #expect(resized[checkpoint10].contains(#"default\n10\n"#))
        resized[checkpoint10] = resized[checkpoint10].replacingOccurrences(of: #"default\n10\n"#, with: #"default\n11\n"#)
        failure = try verify(sandbox, "checkpoint-size", lines: resized)
        #expect(failure.kind == "checkpoint forged")
        #expect(failure.location.hasSuffix(":\(checkpoint10 + 1)"))

        var rerooted = lines
        let note = try #require(JSONParser.parse(lines[checkpoint10])["checkpoint"]?.stringValue)
        let rootLine = note.split(separator: "\n")[2]
        let otherRoot = Data(repeating: 7, count: 32).base64EncodedString()
        rerooted[checkpoint10] = JSONCanonicalizer.canonicalString(
            .object(["checkpoint": .string(note.replacingOccurrences(of: String(rootLine), with: otherRoot))]))
        failure = try verify(sandbox, "checkpoint-root", lines: rerooted)
        #expect(failure.kind == "checkpoint forged")

        // The same checkpoint re-signed by a key nobody trusts.
        let rogue = try Ed25519SigningKey.generate(name: "rogue")
        let body = note.components(separatedBy: "\n\n")[0].split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let forged = try Checkpoint(
            origin: body[0], size: try #require(UInt64(body[1])), rootHash: [UInt8](try #require(Data(base64Encoded: body[2]))),
            extensions: Array(body[3...]))
        var resigned = lines
        resigned[checkpoint10] = JSONCanonicalizer.canonicalString(.object(["checkpoint": .string(forged.signedNote(signers: [rogue]))]))
        failure = try verify(sandbox, "checkpoint-rogue-key", lines: resigned)
        #expect(failure.kind == "checkpoint forged")
        #expect(failure.message.contains(rogue.verifierKey.description), "\(failure.message)")
        #expect(failure.location.hasSuffix(":\(checkpoint10 + 1)"))

        // Cut in the middle of entry 12's line: the position is named.
        let text = lines.map { $0 + "\n" }.joined()
        let cutLine = Self.index(ofEntry: 12)
        let cutOffset = lines[..<cutLine].reduce(0) { $0 + $1.utf8.count + 1 } + 40
        let truncated = String(decoding: Array(text.utf8)[..<cutOffset], as: UTF8.self)
        failure = try verify(sandbox, "truncated", lines: [], rawText: truncated)
        #expect(failure.kind == "malformed")
        #expect(failure.seq == 12)
        #expect(failure.location.hasSuffix("truncated.ndjson:\(cutLine + 1)"), "\(failure.location)")
        #expect(failure.message.contains("truncated"))
    }

    /// A byte changed inside entry 7 of the journal's segment file: the journal refuses to open
    /// as corrupt (it is not a torn tail: valid frames follow), naming the seq, and the file is
    /// left as it was for inspection.
    @Test func journalSegmentTampering() throws {
        let (sandbox, _) = try deliveredChain()
        let segment = sandbox.stateDirectory + "/journal/" + SegmentName.fileName(firstSeq: 0)
        var bytes = [UInt8](try #require(FileManager.default.contents(atPath: segment)))
        let needle = Array("user-07".utf8)
        let at = try #require((0...(bytes.count - needle.count)).first { bytes[$0..<$0 + needle.count].elementsEqual(needle) })
        bytes[at + 6] = UInt8(ascii: "X")
        try Data(bytes).write(to: URL(fileURLWithPath: segment))

        let (status, _, result) = try sandbox.verifyChain()
        #expect(status == 1)
        #expect(result.output.contains("seq 7"), "\(result.output)")
        #expect(result.output.contains("content changed"), "\(result.output)")
        let unchanged = FileManager.default.contents(atPath: segment).map { [UInt8]($0) == bytes } ?? false
        #expect(unchanged, "verify changed the journal")
        // The FileSink copy is independent evidence and still verifies.
        #expect(try sandbox.verifyChain(["--sink", "file"]).status == 0)
    }

    /// The same change in the journal's last entry (19), which a signed checkpoint covers. A
    /// checkpoint is only signed over durable entries, so this frame cannot be a torn write:
    /// open (also the one `verify chain` does) must report it, not truncate it away.
    @Test func journalLastEntryTampering() throws {
        let (sandbox, _) = try deliveredChain()
        let segment = sandbox.stateDirectory + "/journal/" + SegmentName.fileName(firstSeq: 0)
        var bytes = [UInt8](try #require(FileManager.default.contents(atPath: segment)))
        let needle = Array("user-19".utf8)
        let at = try #require((0...(bytes.count - needle.count)).first { bytes[$0..<$0 + needle.count].elementsEqual(needle) })
        bytes[at + 6] = UInt8(ascii: "X")
        try Data(bytes).write(to: URL(fileURLWithPath: segment))

        let (status, _, result) = try sandbox.verifyChain()
        #expect(status == 1, "\(result.output)")
        let sizeAfter = FileManager.default.contents(atPath: segment)?.count
        #expect(sizeAfter == bytes.count, "verify changed the journal")
        #expect(result.output.contains("seq 19"), "\(result.output)")
        #expect(try sandbox.verifyChain(["--sink", "file"]).status == 0)
    }
}
