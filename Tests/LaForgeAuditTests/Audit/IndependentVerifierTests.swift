import Foundation
import Testing
@testable import LaForgeTestSupport

@testable import LaForgeAudit
@testable import LaForgeCore
@testable import LaForgeJournal

/// #17 items 8 and the Tests section: `contrib/verify.py`, written from docs/FORMATS.md alone,
/// and `laforge verify chain --strict` judge the same good and tampered stores alike — the
/// journal (two segments and checkpoints.log) and a rotated FileSink set — through a corpus of
/// byte flips, truncations at and between frame boundaries, deleted, duplicated and swapped
/// frames and lines, forged appends and removed files. Every tamper is detected by both, at the
/// same seq (journal frames: the seq of the frame changed), and neither changes a byte.
@Suite struct IndependentVerifierTests {
    /// A store of `entries` entries emitted in groups of `group` (checkpoint every
    /// `checkpointEvery`, a final one), journal segments of `segmentBytes` and a FileSink rotated
    /// every `rotateBytes`, each entry's text padded by `padding` bytes (few entries, several
    /// files), built once and copied for each case. The default: 300 entries,
    /// checkpoints every 40, segments of 64 KiB, rotation every 16 KB.
    final class Store: @unchecked Sendable {
        let sandbox: AuditSandbox
        var journal: String { sandbox.stateDirectory + "/journal" }
        var sinkDirectory: String { sandbox.root + "/sink" }
        var key: String { sandbox.stateDirectory + "/keys/checkpoint.pub" }

        init(
            entries: Int = 300, group: Int = 10, checkpointEvery: Int = 40, segmentBytes: Int = 65536, rotateBytes: Int = 16000,
            padding: Int = 0
        ) throws {
            sandbox = try AuditSandbox()
            try sandbox.writeConfig(audit: """
                  checkpoints:
                    every_entries: \(checkpointEvery)
                    every_ms: 0
                  journal:
                    segment_bytes: \(segmentBytes)
                  sinks:
                    - name: file
                      library: libFileSink.so
                      config:
                        path: \(sandbox.root)/sink/audit.ndjson
                        rotate_bytes: \(rotateBytes)
                """)
            // In groups, so checkpoints are signed along the way.
            let log = try AuditLog.open(config: sandbox.config(), logger: CapturedLog().logger)
            for start in stride(from: 0, to: entries, by: group) {
                try log.emit((start..<min(start + group, entries)).map {
                    auditEvent("user-\($0)", data: ["n": .number(Double($0)), "text": .string("é✓ \"q\" \\ \($0)" + String(repeating: "p", count: padding))])
                })
            }
            try log.close()
            let deliver = try sandbox.laforge(["audit", "deliver", "--timeout", "60"])
            guard deliver.status == 0 else { throw AuditTestFailure("deliver failed: \(deliver.output)") }
        }
    }

    static let store: Result<Store, AuditTestFailure> = {
        do { return .success(try Store()) } catch { return .failure(AuditTestFailure("building the store: \(error)")) }
    }()

    struct Verdict: Equatable, CustomStringConvertible {
        var valid: Bool
        var seq: Int?
        var kind: String?
        var description: String { valid ? "valid" : "\(kind ?? "?") at \(seq.map(String.init) ?? "nil")" }
    }

    /// Copies the store into a case folder, applies `tamper` to it, and runs both verifiers on
    /// `target` (nil: the journal; else a FileSink path relative to the sink folder).
    /// With `textSeq`, the text report (standard error) must name that seq too.
    /// With `knownEntries`, both verifiers are told the entry count the store held when last
    /// verified, kept outside it (`--state` with a state file, `verify.py --known-entries`).
    func judge(
        _ name: String, target: String? = nil, textSeq: Int? = nil, store given: Store? = nil, knownEntries: Int? = nil,
        _ tamper: (_ journal: String, _ sink: String) throws -> Void
    ) throws
        -> (laforge: Verdict, python: Verdict, name: String)
    {
        let store = try given ?? Self.store.get()
        let folder = store.sandbox.root + "/case-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try FileManager.default.copyItem(atPath: store.sandbox.stateDirectory, toPath: folder + "/state")
        try FileManager.default.copyItem(atPath: store.sinkDirectory, toPath: folder + "/sink")
        try tamper(folder + "/state/journal", folder + "/sink")
        let config = folder + "/laforge.yaml"
        try "version: 1\nmode: development\nstate_dir: \(folder)/state\n".write(toFile: config, atomically: true, encoding: .utf8)
        let before = try StoreDigest(folder)
        var arguments = ["verify", "chain", "--json", "--strict", "--config", config, "--key", folder + "/state/keys/checkpoint.pub"]
        var python = [CPluginBuilder.packageRoot.appendingPathComponent("contrib/verify.py").path, "--strict", "--key", folder + "/state/keys/checkpoint.pub"]
        if let target {
            arguments += ["--file", folder + "/sink/" + target]
            python += ["--file", folder + "/sink/" + target]
        } else {
            python.append(folder + "/state/journal")
        }
        // Beside the case folder, not in it: a passing run rewrites it.
        let state = folder + ".state.json"
        defer { try? FileManager.default.removeItem(atPath: state) }
        if let knownEntries {
            try #"{"entries":\#(knownEntries),"source":"the store before the case","verified_at":"2026-12-01T00:00:00.000000Z"}"#
                .write(toFile: state, atomically: true, encoding: .utf8)
            arguments += ["--state", state]
            python += ["--known-entries", String(knownEntries)]
        }
        let swiftRun = try CLIRunner.run(arguments)
        if let textSeq {
            let text = try CLIRunner.run(arguments.filter { $0 != "--json" })
            #expect(text.status == 1 && text.stderr.contains("at seq \(textSeq) ("), "\(name): \(text.output)")
        }
        guard let interpreter = testPythonInterpreter() else { throw AuditTestFailure("no test Python (run scripts/test)") }
        let pythonRun = try CLIRunner.runExecutable(interpreter, python)
        #expect(try StoreDigest(folder) == before, "\(name): a verifier changed the store")
        func verdict(_ result: CLIResult, _ tool: String) throws -> Verdict {
            guard let report = try? JSONParser.parse(result.stdout), let valid = report["valid"]?.boolValue,
                [0, 1].contains(result.status), (result.status == 0) == valid
            else { throw AuditTestFailure("\(name): \(tool) gave no report: \(result.output)") }
            return Verdict(valid: valid, seq: report["failure"]?["seq"]?.intValue, kind: report["failure"]?["kind"]?.stringValue)
        }
        return (try verdict(swiftRun, "laforge"), try verdict(pythonRun, "verify.py"), name)
    }

    /// The frames of a segment file: (offset, length, seq).
    static func frames(_ path: String) throws -> [(offset: Int, count: Int, seq: Int)] {
        let bytes = try Array(Data(contentsOf: URL(fileURLWithPath: path)))
        var frames: [(Int, Int, Int)] = []
        var offset = 0
        while offset + 80 <= bytes.count {
            let length = Int(bytes[offset + 4]) | Int(bytes[offset + 5]) << 8 | Int(bytes[offset + 6]) << 16 | Int(bytes[offset + 7]) << 24
            let seq = (0..<8).reduce(0) { $0 | Int(bytes[offset + 8 + $1]) << (8 * $1) }
            frames.append((offset, 80 + length, seq))
            offset += 80 + length
        }
        return frames
    }

    static func segments(_ journal: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: journal).filter { $0.hasSuffix(".seg") }.sorted().map { journal + "/" + $0 }
    }

    static func edit(_ path: String, _ change: (inout [UInt8]) -> Void) throws {
        var bytes = try Array(Data(contentsOf: URL(fileURLWithPath: path)))
        change(&bytes)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    func expectAgreement(_ results: [(laforge: Verdict, python: Verdict, name: String)], expectedSeq: [String: Int] = [:]) {
        var disagreements: [String] = []
        for (laforge, python, name) in results {
            if name != "pristine" { #expect(!laforge.valid, "\(name): laforge verify chain missed it") }
            if laforge.valid != python.valid || laforge.seq != python.seq {
                disagreements.append("\(name): laforge \(laforge), verify.py \(python)")
            }
            if let seq = expectedSeq[name] { #expect(laforge.seq == seq, "\(name): located at \(laforge), not seq \(seq)") }
            // #17 item 3: a changed checkpoint frame is located too, in the JSON report.
            if name.contains("checkpoints.log") && !laforge.valid { #expect(laforge.seq != nil, "\(name): no seq in the report") }
        }
        #expect(disagreements.isEmpty, "\(disagreements.count) of \(results.count) cases disagree:\n\(disagreements.joined(separator: "\n"))")
    }

    @Test func bothVerifiersAgreeOnTheJournalCorpus() throws {
        let store = try Self.store.get()
        let segments = try Self.segments(store.journal)
        #expect(segments.count >= 2)
        var results = [try judge("pristine") { _, _ in }]
        #expect(results[0].laforge.valid && results[0].python.valid, "\(results[0])")
        var expectedSeq: [String: Int] = [:]
        for (index, segment) in segments.enumerated() {
            let name = (segment as NSString).lastPathComponent
            let frames = try Self.frames(segment)
            // Byte flips spread over the segment, in headers and payloads alike.
            let size = frames.last.map { $0.offset + $0.count } ?? 0
            for offset in stride(from: 3, to: size, by: max(size / 24, 1)) {
                let seq = frames.last { $0.offset <= offset }!.seq
                let label = "flip \(name)@\(offset)"
                expectedSeq[label] = seq
                results.append(try judge(label, textSeq: offset % 3 == 0 ? seq : nil) { journal, _ in
                    try Self.edit(journal + "/" + name) { $0[offset] ^= 0x01 }
                })
            }
            // Cuts at frame boundaries and inside frames.
            for frame in frames where frame.seq % 12 == 5 || frame.seq == frames.last!.seq {
                for cut in [frame.offset, frame.offset + 40] {
                    results.append(try judge("cut \(name)@\(cut)") { journal, _ in try Self.edit(journal + "/" + name) { $0.removeLast($0.count - cut) } })
                }
            }
            results.append(try judge("remove \(name)") { journal, _ in try FileManager.default.removeItem(atPath: journal + "/" + name) })
            if index == 0, frames.count > 10 {
                let (a, b) = (frames[3], frames[4])
                results.append(try judge("duplicate frame 3") { journal, _ in
                    try Self.edit(journal + "/" + name) { $0.insert(contentsOf: Array($0[a.offset..<(a.offset + a.count)]), at: b.offset) }
                })
                results.append(try judge("swap frames 3 and 4") { journal, _ in
                    try Self.edit(journal + "/" + name) { bytes in
                        let first = Array(bytes[a.offset..<(a.offset + a.count)])
                        let second = Array(bytes[b.offset..<(b.offset + b.count)])
                        bytes.replaceSubrange(a.offset..<(b.offset + b.count), with: second + first)
                    }
                })
                results.append(try judge("delete frame 4") { journal, _ in try Self.edit(journal + "/" + name) { $0.removeSubrange(b.offset..<(b.offset + b.count)) } })
            }
        }
        // checkpoints.log: flips, cuts at and between frames, the whole file removed.
        let log = store.journal + "/checkpoints.log"
        let logSize = try Array(Data(contentsOf: URL(fileURLWithPath: log))).count
        for offset in stride(from: 1, to: logSize, by: max(logSize / 20, 1)) {
            results.append(try judge("flip checkpoints.log@\(offset)") { journal, _ in try Self.edit(journal + "/checkpoints.log") { $0[offset] ^= 0x01 } })
        }
        var boundaries: [Int] = []
        let logBytes = try Array(Data(contentsOf: URL(fileURLWithPath: log)))
        var frameStart = 0
        while frameStart + 16 <= logBytes.count {
            boundaries.append(frameStart)
            frameStart += 48 + (Int(logBytes[frameStart + 4]) | Int(logBytes[frameStart + 5]) << 8 | Int(logBytes[frameStart + 6]) << 16)
        }
        // Every frame boundary of checkpoints.log, and cuts inside its frames.
        for cut in boundaries + boundaries.map({ $0 + 10 }) + [logSize - 1, logSize - 40] {
            results.append(try judge("cut checkpoints.log@\(cut)") { journal, _ in try Self.edit(journal + "/checkpoints.log") { $0.removeLast($0.count - cut) } })
        }
        results.append(try judge("remove checkpoints.log") { journal, _ in try FileManager.default.removeItem(atPath: journal + "/checkpoints.log") })
        // A forged append: a correctly framed and linked entry after the last checkpoint.
        results.append(try judge("forged append") { journal, _ in
            let last = try Self.segments(journal).last!
            let frames = try Self.frames(last)
            let bytes = try Array(Data(contentsOf: URL(fileURLWithPath: last)))
            let previous = Array(bytes[(frames.last!.offset + 16)..<(frames.last!.offset + 48)])
            let seq = UInt64(frames.last!.seq + 1)
            let entry = AuditEntry.bytes(chainID: "default", event: auditEvent("forger").canonicalBytes(), seq: seq, prevHash: previous)
            var frame = [UInt8](repeating: 0, count: 80)
            withUnsafeBytes(of: UInt32(0x314A_464C).littleEndian) { frame.replaceSubrange(0..<4, with: $0) }
            withUnsafeBytes(of: UInt32(entry.count).littleEndian) { frame.replaceSubrange(4..<8, with: $0) }
            withUnsafeBytes(of: seq.littleEndian) { frame.replaceSubrange(8..<16, with: $0) }
            frame.replaceSubrange(16..<48, with: SHA256.leafHash(entry))
            frame.replaceSubrange(48..<80, with: previous)
            try Self.edit(last) { $0 += frame + entry }
        })
        expectAgreement(results, expectedSeq: expectedSeq)
    }

    @Test func bothVerifiersAgreeOnTheFileSinkCorpus() throws {
        let store = try Self.store.get()
        let files = try FileManager.default.contentsOfDirectory(atPath: store.sinkDirectory).sorted()
        #expect(files.count >= 3, "\(files)")
        var results = [try judge("pristine", target: "audit.ndjson") { _, _ in }]
        #expect(results[0].laforge.valid && results[0].python.valid, "\(results[0])")
        for file in ["audit.ndjson.1", "audit.ndjson"] {
            let text = try Array(Data(contentsOf: URL(fileURLWithPath: store.sinkDirectory + "/" + file)))
            for offset in stride(from: 2, to: text.count, by: max(text.count / 25, 1)) where text[offset] != 0x0A {
                results.append(try judge("flip \(file)@\(offset)", target: "audit.ndjson") { _, sink in
                    try Self.edit(sink + "/" + file) { $0[offset] ^= 0x01 }
                })
            }
            let newlines = text.indices.filter { text[$0] == 0x0A }
            for end in newlines.enumerated().filter({ $0.offset % 3 == 1 }).map(\.element) {
                results.append(try judge("cut \(file) after byte \(end)", target: "audit.ndjson") { _, sink in
                    try Self.edit(sink + "/" + file) { $0.removeLast($0.count - end - 1) }
                })
            }
            let lines = String(decoding: text, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
            func rewrite(_ label: String, _ change: @escaping (inout [String]) -> Void) throws {
                results.append(try judge("\(label) in \(file)", target: "audit.ndjson") { _, sink in
                    var edited = lines
                    change(&edited)
                    try edited.map { $0 + "\n" }.joined().write(toFile: sink + "/" + file, atomically: true, encoding: .utf8)
                })
            }
            guard lines.count > 8 else { continue }
            try rewrite("delete line 5") { $0.remove(at: 5) }
            try rewrite("duplicate line 5") { $0.insert($0[5], at: 6) }
            try rewrite("swap lines 5 and 6") { $0.swapAt(5, 6) }
            // (The last line of a rotated file is a checkpoint the next file starts with a copy
            // of; the entry before it is what a cut loses.)
            try rewrite("delete the last entry") { $0.remove(at: $0.lastIndex { !$0.hasPrefix(#"{"checkpoint":"#) }!) }
            try rewrite("empty the file") { $0.removeAll() }
        }
        for file in files where file != "audit.ndjson" {
            results.append(try judge("remove \(file)", target: "audit.ndjson") { _, sink in try FileManager.default.removeItem(atPath: sink + "/" + file) })
        }
        expectAgreement(results)
    }
}
