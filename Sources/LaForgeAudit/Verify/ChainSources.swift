import Foundation
import LaForgeCore
import LaForgeJournal

/// Feeds a `ChainVerifier` from where entries are stored. Each source reports positions a
/// person can open: `journal seq 41`, `audit.ndjson.2:17`.
public enum ChainSource {
    /// Everything in the journal directory `directory`, read from its files without opening the
    /// journal for writing (`JournalFileReader`): verification never truncates, creates or
    /// locks out anything. Entries in order, each checkpoint after the entry that completes it;
    /// the frames' own checks (stored hash, seq, prev_hash in the header) come first, so a
    /// changed byte is named at its entry. `progress` is called with the bytes read and the
    /// segments' total size.
    public static func verifyJournal(
        directory: String, verifier: ChainVerifier, progress: (UInt64, UInt64) -> Void = { _, _ in }
    ) throws(JournalFileReader.OpenError) -> VerificationReport {
        let reader = JournalFileReader(directory: directory)
        let extent = try reader.extent()
        verifier.requireGenesis = true
        let (checkpoints, checkpointProblem) = reader.checkpoints(upTo: extent.checkpointLogSize)
        let totalBytes = extent.segments.reduce(0) { $0 + $1.size }
        var entries: UInt64 = 0
        var readBytes: UInt64 = 0
        // The walk leaves each frame's stored hash to the pipeline, which hashes the payloads on
        // the other cores and compares them in order (hashing twice would double the walk's cost).
        let pipeline = LeafHashPipeline(verifier: verifier)
        pipeline.storedHashMismatch = { seq, offset in
            let seq = seq ?? 0
            let path = extent.segments.last { $0.firstSeq <= seq }?.path ?? directory
            report(JournalFileReader.storedHashProblem(seq: seq, file: path, offset: offset), to: verifier)
        }
        // Each frame's offset in its segment, for the message naming a changed frame: the walk
        // visits the frames of each segment from its start, 80 header bytes and the payload each.
        let segmentStarts = Set(extent.segments.map(\.firstSeq))
        var frameOffset: UInt64 = 0
        reader.walk(extent: extent, checkpoints: checkpoints, checkingHashes: false) { item in
            switch item {
            case .entry(let seq, let payload, let storedHash):
                if segmentStarts.contains(seq) { frameOffset = 0 }
                pipeline.entry(payload, at: .journal(seq: seq), storedHash: storedHash, seq: seq, tag: frameOffset)
                frameOffset += UInt64(payload.count + 80)
                entries += 1
                readBytes += UInt64(payload.count + 80)
                if entries % 16_384 == 0 { progress(readBytes, totalBytes) }
            case .checkpoint(_, let payload, let location):
                if let value = try? JSONParser.parse(payload), case .string(let note)? = value["note"] {
                    pipeline.other { $0.checkpoint(note, location: location) }
                } else {
                    pipeline.other { $0.problem(.checkpointForged, seq: nil, location: location, "a stored checkpoint is not {\"note\": \"<signed note>\"}") }
                }
            case .problem(let problem):
                pipeline.other { report(problem, to: $0) }
            }
            return !pipeline.hasFailed
        }
        pipeline.drain()
        if let checkpointProblem, !verifier.hasFailed { report(checkpointProblem, to: verifier) }
        progress(totalBytes, totalBytes)
        return verifier.finish()
    }

    private static func report(_ problem: JournalFileReader.Problem, to verifier: ChainVerifier) {
        let location = problem.seq.map { "journal seq \($0) (\(problem.location))" } ?? problem.location
        switch problem.kind {
        case .tornTail: verifier.tornTail(problem.message, location: problem.location)
        case .changed: verifier.problem(.contentChanged, seq: problem.seq, location: location, problem.message)
        case .missing: verifier.problem(.entryMissing, seq: problem.seq, location: location, problem.message)
        case .reordered: verifier.problem(.reordered, seq: problem.seq, location: location, problem.message)
        case .checkpointChanged:
            // The header's size field may be the changed byte: a note whose signature still
            // verifies names the true size.
            let size = problem.payload.flatMap { try? JSONParser.parse($0)["note"]?.stringValue }.flatMap(verifier.authenticSize) ?? problem.seq
            verifier.problem(.checkpointForged, seq: size, location: problem.location, problem.message)
        }
    }

    /// The files of a FileSink file set, oldest first: `PATH.1`, `PATH.2`, …, then `PATH`.
    /// A numbered path (`audit.ndjson.3`) is verified alone, from the checkpoint it starts with.
    public static func fileSet(for path: String) -> [String] {
        let name = (path as NSString).lastPathComponent
        if rotationNumber(path) != nil { return [path] }
        let directory = (path as NSString).deletingLastPathComponent
        let folder = directory.isEmpty ? "." : directory
        let rotated = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [])
            .compactMap { candidate -> (Int, String)? in
                guard candidate.hasPrefix(name + "."), let number = Int(candidate.dropFirst(name.count + 1)) else { return nil }
                return (number, (folder as NSString).appendingPathComponent(candidate))
            }
            .sorted { $0.0 < $1.0 }
            .map(\.1)
        return rotated + [path]
    }

    /// `N` of a rotated `PATH.N`, nil for the active file.
    static func rotationNumber(_ path: String) -> Int? {
        let name = (path as NSString).lastPathComponent
        guard let dot = name.lastIndex(of: ".") else { return nil }
        return Int(name[name.index(after: dot)...])
    }

    /// Verifies FileSink NDJSON files in order: entry lines verbatim, checkpoint lines
    /// `{"checkpoint":"<note>"}`. Each file is read in blocks and its lines are verified where
    /// they lie in the block, so memory stays flat whatever the file's size.
    public static func verifyFiles(
        _ paths: [String], verifier: ChainVerifier, fromCheckpoint: Bool = false, progress: (UInt64, UInt64) -> Void = { _, _ in }
    ) -> VerificationReport {
        let totalBytes = paths.reduce(UInt64(0)) { sum, path in
            sum + ((try? FileManager.default.attributesOfItem(atPath: path)[.size] as? UInt64) ?? 0)
        }
        var readBytes: UInt64 = 0
        // A whole set (not one numbered file verified alone, nor files an operator pruned and
        // verifies with `fromCheckpoint`) starts at entry 0: with its first file or files
        // removed, the rest would verify from the checkpoint they start with. A file removed
        // from the middle leaves a gap the checkpoints show.
        if !fromCheckpoint, paths.count > 1 || paths.first.map({ rotationNumber($0) == nil }) ?? false {
            verifier.requireGenesis = true
        }
        let checkpointPrefix: StaticString = #"{"checkpoint":"#
        let reader = LineReader()
        // Entry lines are hashed on the other cores; checkpoints, problems and the rotation rule
        // run on the verifier in their place in the order.
        let pipeline = LeafHashPipeline(verifier: verifier)
        let set = paths.count > 1 && rotationNumber(paths.last!) == nil
        let boundary = RotationBoundary()
        for (index, path) in paths.enumerated() where !pipeline.hasFailed {
            if set, index == paths.count - 1, !FileManager.default.fileExists(atPath: path) {
                // FileSink creates the active file again right after rotating (starting it with
                // a copy of the last checkpoint): a set without one had it removed.
                pipeline.other { verifier in
                    let next = verifier.nextSeq ?? 0
                    verifier.problem(
                        .entryMissing, seq: next, location: path,
                        "the active file of the set is missing (FileSink always keeps one after rotating, starting with a copy of the last checkpoint): "
                            + "it was removed, and entries from \(next) on, if there were any, with it")
                }
                break
            }
            var endsWithCheckpoint = false
            // Only the first record after a rotated file can close what its end left open.
            var firstRecord = index > 0
            let end = reader.forEachLine(ofFileAt: path) { line, lineNumber, offset in
                if line.count >= checkpointPrefix.utf8CodeUnitCount,
                   memcmp(line.baseAddress!, checkpointPrefix.utf8Start, checkpointPrefix.utf8CodeUnitCount) == 0
                {
                    let location = "\(path):\(lineNumber)"
                    if let value = try? JSONParser.parse([UInt8](line)), case .string(let note)? = value["checkpoint"] {
                        let claimed = firstRecord ? ChainVerifier.claimedSize(note: note) : nil
                        let closes = firstRecord
                        pipeline.other { verifier in
                            if closes { boundary.next(seq: claimed, verifier: verifier) }
                            verifier.checkpoint(note, location: location)
                        }
                    } else {
                        pipeline.other { $0.malformed("a checkpoint line that is not {\"checkpoint\": \"<note>\"}", location: location) }
                    }
                    endsWithCheckpoint = true
                    firstRecord = false
                } else {
                    if firstRecord {
                        let seq = AuditEntry.link(line)?.seq
                        pipeline.other { boundary.next(seq: seq, verifier: $0) }
                    }
                    pipeline.entry(line, at: .line(lineNumber, of: path))
                    endsWithCheckpoint = false
                    firstRecord = false
                }
                if lineNumber % 65_536 == 0 { progress(readBytes + offset, totalBytes) }
                return !pipeline.hasFailed
            }
            switch end {
            case .complete(let size):
                readBytes += size
                progress(readBytes, totalBytes)
                if set, index < paths.count - 1, !endsWithCheckpoint {
                    pipeline.other { boundary.unterminated(path, verifier: $0) }
                }
            case .stopped:
                break
            case .unterminatedLine(let lineNumber):
                pipeline.other {
                    $0.malformed("the last line has no newline: the file was truncated or a write was torn", location: "\(path):\(lineNumber)")
                }
            case .unreadable:
                pipeline.other { $0.malformed("cannot read the file", location: path) }
            }
        }
        pipeline.drain()
        boundary.end(verifier: verifier)
        return verifier.finish()
    }
}

/// The rule at the end of each rotated file of a FileSink set: FileSink rotates only right after
/// writing a checkpoint, so a rotated file always ends with one. One that does not lost its last
/// lines; when what follows continues at the next seq (nothing else shows the cut: the next
/// file starts with a copy of that checkpoint, or the entries simply go on), the checkpoint is
/// reported missing there. When entries are missing too, the chain says so itself.
private final class RotationBoundary {
    // Touched only by the verifier's steps, which run one at a time in order.
    private var open: (path: String, seq: UInt64)?

    func unterminated(_ path: String, verifier: ChainVerifier) {
        guard !verifier.hasFailed, !verifier.isLookingAhead, let next = verifier.nextSeq else { return }
        open = (path, next)
    }

    /// The first record after a rotated file, with the seq (or size) it claims.
    func next(seq: UInt64?, verifier: ChainVerifier) {
        guard let (path, expected) = open else { return }
        open = nil
        if seq == expected { report(path, expected, verifier) }
    }

    func end(verifier: ChainVerifier) {
        guard let (path, expected) = open else { return }
        open = nil
        report(path, expected, verifier)
    }

    private func report(_ path: String, _ seq: UInt64, _ verifier: ChainVerifier) {
        verifier.problem(
            .checkpointMissing, seq: seq, location: path,
            "the rotated file does not end with a checkpoint (FileSink rotates only right after one): "
                + "its last lines were removed, the checkpoint of size \(seq) with them")
    }
}
