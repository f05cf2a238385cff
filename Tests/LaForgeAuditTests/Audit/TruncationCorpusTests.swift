import Foundation
import Testing
@testable import LaForgeTestSupport

@testable import LaForgeAudit
@testable import LaForgeCore
@testable import LaForgeJournal

/// #17 Tests section, truncations at **every** frame boundary (not samples), on a small store (32
/// entries of about 6 KB, a checkpoint every 5 and a final one, four journal segments, a FileSink
/// set of three rotated files and the active one): every
/// journal segment frame, every `checkpoints.log` frame, the journal cut together with its
/// checkpoints at every checkpoint, every FileSink line of every file of the set, each file of
/// the set removed (the oldest, the active one), and the newest file removed together with the
/// last checkpoint before it. Each is detected by `laforge verify chain --strict` at the right
/// seq in JSON and in text, neither verifier changes a byte, and `contrib/verify.py` agrees.
/// A cut that leaves a shorter history that is valid on its own (at a checkpoint, with the
/// checkpoints after it) is found through the entry count the verifier kept from its last run
/// (`--state`, `verify.py --known-entries`): the verifier's last known size, kept outside the store.
@Suite struct TruncationCorpusTests {
    static let entries = 32
    static let store: Result<IndependentVerifierTests.Store, AuditTestFailure> = {
        do {
            return .success(try IndependentVerifierTests.Store(
                entries: entries, group: 5, checkpointEvery: 5, segmentBytes: 65536, rotateBytes: 50000, padding: 6000))
        } catch { return .failure(AuditTestFailure("building the store: \(error)")) }
    }()

    /// One case: both verifiers must fail at `seq`, laforge's text report naming it too.
    func expectFound(
        _ name: String, seq: Int, target: String? = nil, knownEntries: Int? = nil, _ tamper: (_ journal: String, _ sink: String) throws -> Void
    ) throws {
        let result = try IndependentVerifierTests().judge(
            name, target: target, textSeq: seq, store: try Self.store.get(), knownEntries: knownEntries, tamper)
        #expect(!result.laforge.valid && result.laforge.seq == seq, "\(name): laforge \(result.laforge), expected seq \(seq)")
        #expect(!result.python.valid && result.python.seq == seq, "\(name): verify.py \(result.python), expected seq \(seq)")
    }

    /// A FileSink line: an entry (its seq) or a checkpoint (its size).
    enum Line: Equatable {
        case entry(Int)
        case checkpoint(Int)

        init(_ text: String) throws {
            let value = try JSONParser.parse(text)
            if let note = value["checkpoint"]?.stringValue {
                self = .checkpoint(Int(note.split(separator: "\n")[1])!)
            } else {
                self = .entry(try #require(value["seq"]?.intValue))
            }
        }
    }

    @Test func everyJournalFrameBoundary() throws {
        let store = try Self.store.get()
        let segments = try IndependentVerifierTests.segments(store.journal)
        #expect(segments.count >= 3, "\(segments)")
        var cases = 0
        for segment in segments {
            let name = (segment as NSString).lastPathComponent
            // Cut before each frame: that frame's entry is the first one missing (the last
            // checkpoint covers every entry, and a later segment starts past the cut).
            for frame in try IndependentVerifierTests.frames(segment) {
                try expectFound("cut \(name) before seq \(frame.seq)", seq: frame.seq) { journal, _ in
                    try IndependentVerifierTests.edit(journal + "/" + name) { $0.removeLast($0.count - frame.offset) }
                }
                cases += 1
            }
        }
        #expect(cases == Self.entries)
    }

    @Test func everyCheckpointLogFrameBoundaryAndTheJournalCutWithItsCheckpoints() throws {
        let store = try Self.store.get()
        let log = try Array(Data(contentsOf: URL(fileURLWithPath: store.journal + "/checkpoints.log")))
        var frames: [(offset: Int, size: Int)] = []
        var offset = 0
        while offset + 16 <= log.count {
            let length = Int(log[offset + 4]) | Int(log[offset + 5]) << 8 | Int(log[offset + 6]) << 16 | Int(log[offset + 7]) << 24
            frames.append((offset, (0..<8).reduce(0) { $0 | Int(log[offset + 8 + $1]) << (8 * $1) }))
            offset += 48 + length
        }
        #expect(offset == log.count && frames.last?.size == Self.entries, "\(frames)")
        let segments = try IndependentVerifierTests.segments(store.journal).map { (path: $0, frames: try IndependentVerifierTests.frames($0)) }
        for (index, frame) in frames.enumerated() {
            // Checkpoints from this one on cut: the entries after the one before are unsigned.
            let covered = index == 0 ? 0 : frames[index - 1].size
            try expectFound("cut checkpoints.log before size \(frame.size)", seq: covered) { journal, _ in
                try IndependentVerifierTests.edit(journal + "/checkpoints.log") { $0.removeLast($0.count - frame.offset) }
            }
            // The journal cut back to that checkpoint as well: a shorter history, valid on its
            // own; the kept entry count shows the cut at its first entry.
            try expectFound("journal cut with its checkpoints at size \(covered)", seq: covered, knownEntries: Self.entries) { journal, _ in
                try IndependentVerifierTests.edit(journal + "/checkpoints.log") { $0.removeLast($0.count - frame.offset) }
                for segment in segments {
                    let name = (segment.path as NSString).lastPathComponent
                    guard let first = segment.frames.first else { continue }
                    if first.seq >= covered {
                        try FileManager.default.removeItem(atPath: journal + "/" + name)
                    } else if let cut = segment.frames.first(where: { $0.seq >= covered }) {
                        try IndependentVerifierTests.edit(journal + "/" + name) { $0.removeLast($0.count - cut.offset) }
                    }
                }
            }
        }
    }

    @Test func everyFileSinkLineBoundaryAndEveryFileOfTheSet() throws {
        let store = try Self.store.get()
        let names = try FileManager.default.contentsOfDirectory(atPath: store.sinkDirectory)
            .sorted { (ChainSource.rotationNumber($0) ?? .max) < (ChainSource.rotationNumber($1) ?? .max) }
        #expect(names.count >= 3 && names.last == "audit.ndjson", "\(names)")
        let files = try names.map { name in
            (name: name, lines: try String(contentsOfFile: store.sinkDirectory + "/" + name, encoding: .utf8)
                .split(separator: "\n").map { try Line(String($0)) })
        }
        #expect(files.last!.lines.contains { if case .entry = $0 { true } else { false } }, "the active file holds entries")
        for (index, file) in files.enumerated() {
            let isActive = index == files.count - 1
            let earlier = files[..<index].flatMap(\.lines)
            for kept in 0..<file.lines.count {
                let lost = file.lines[kept...]
                let firstLost = lost.lazy.compactMap { line -> Int? in if case .entry(let seq) = line { seq } else { nil } }.first
                let expected: Int
                if let firstLost {
                    expected = firstLost
                } else if !isActive {
                    // Only the checkpoint a rotated file ends with: named missing at its size.
                    guard case .checkpoint(let size) = file.lines.last! else { throw AuditTestFailure("\(file.name) does not end with a checkpoint") }
                    expected = size
                } else {
                    // Only the active file's last checkpoint: the entries after the one before are unsigned.
                    let before = (earlier + file.lines[..<kept]).compactMap { line -> Int? in if case .checkpoint(let size) = line { size } else { nil } }
                    expected = before.last ?? 0
                }
                try expectFound("\(file.name) cut after line \(kept)", seq: expected, target: "audit.ndjson", knownEntries: Self.entries) { _, sink in
                    let text = try String(contentsOfFile: sink + "/" + file.name, encoding: .utf8)
                    let lines = text.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
                    try lines.prefix(kept).map { $0 + "\n" }.joined().write(toFile: sink + "/" + file.name, atomically: true, encoding: .utf8)
                }
            }
            // The whole file removed: its first entry is the first one missing (the active
            // file's, or the size of the checkpoint it starts with when it holds no entry).
            let firstEntry = file.lines.lazy.compactMap { line -> Int? in if case .entry(let seq) = line { seq } else { nil } }.first!
            try expectFound("\(file.name) removed", seq: firstEntry, target: "audit.ndjson") { _, sink in
                try FileManager.default.removeItem(atPath: sink + "/" + file.name)
            }
        }
        // The newest file removed together with the checkpoint the one before it ends with.
        let newestRotated = files[files.count - 2]
        guard case .checkpoint(let lastRotatedSize) = newestRotated.lines.last! else { throw AuditTestFailure("no final checkpoint") }
        try expectFound("the active file removed with the last checkpoint before it", seq: lastRotatedSize, target: "audit.ndjson") { _, sink in
            try FileManager.default.removeItem(atPath: sink + "/audit.ndjson")
            let text = try String(contentsOfFile: sink + "/" + newestRotated.name, encoding: .utf8)
            try text.split(separator: "\n").dropLast().map { $0 + "\n" }.joined().write(toFile: sink + "/" + newestRotated.name, atomically: true, encoding: .utf8)
        }
        // … and the newest rotated file made the active one: its entries after the checkpoint
        // before its last are unsigned.
        let signedBefore = newestRotated.lines.dropLast().compactMap { line -> Int? in if case .checkpoint(let size) = line { size } else { nil } }.last!
        try expectFound("the newest rotated file made the active one without its last checkpoint", seq: signedBefore, target: "audit.ndjson") { _, sink in
            try FileManager.default.removeItem(atPath: sink + "/audit.ndjson")
            let text = try String(contentsOfFile: sink + "/" + newestRotated.name, encoding: .utf8)
            try FileManager.default.removeItem(atPath: sink + "/" + newestRotated.name)
            try text.split(separator: "\n").dropLast().map { $0 + "\n" }.joined().write(toFile: sink + "/audit.ndjson", atomically: true, encoding: .utf8)
        }
    }
}
