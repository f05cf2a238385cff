import Foundation
import LaForgeCore
import LaForgeJournal

/// Feeds a `ChainVerifier` from where entries are stored. Each source reports positions a
/// person can open: `journal seq 41`, `audit.ndjson.2:17`.
public enum ChainSource {
    /// Everything in the journal: entries in order, each checkpoint after the entry that
    /// completes it. `progress` is called with the number of entries read so far.
    public static func verifyJournal(
        _ journal: Journal, verifier: ChainVerifier, progress: (UInt64, UInt64) -> Void = { _, _ in }
    ) throws(JournalError) -> VerificationReport {
        let total = try journal.currentSize()
        var checkpoints = try journal.checkpoints()[...]
        var next: UInt64 = 0
        func feedCheckpoints(upTo size: UInt64) {
            while let first = checkpoints.first, first.size <= size {
                checkpoints.removeFirst()
                let note: String
                if let value = try? JSONParser.parse(first.payload), case .string(let text)? = value["note"] {
                    note = text
                } else {
                    verifier.malformed("a stored checkpoint is unreadable", location: "journal checkpoints.log (size \(first.size))")
                    return
                }
                verifier.checkpoint(note, location: "journal checkpoint of size \(first.size)")
            }
        }
        feedCheckpoints(upTo: 0)
        // The entries are borrowed from the journal's read window, not copied out: verification
        // reads every byte once and keeps none of it.
        var nextCheckpointSize = checkpoints.first?.size ?? .max
        while next < total, !verifier.hasFailed {
            let start = next
            try journal.forEachEntry(from: next, to: total) { seq, payload in
                verifier.entry(payload, at: .journal(seq: seq))
                next = seq + 1
                if next >= nextCheckpointSize {
                    feedCheckpoints(upTo: next)
                    nextCheckpointSize = checkpoints.first?.size ?? .max
                }
                if next % 16_384 == 0 { progress(next, total) }
                return !verifier.hasFailed
            }
            guard next > start else { break }
        }
        progress(next, total)
        if !verifier.hasFailed, let leftover = checkpoints.first {
            verifier.checkpoint(
                (try? JSONParser.parse(leftover.payload))?["note"]?.stringValue ?? "",
                location: "journal checkpoint of size \(leftover.size)")
        }
        return verifier.finish()
    }

    /// The files of a FileSink file set, oldest first: `PATH.1`, `PATH.2`, …, then `PATH`.
    /// A numbered path (`audit.ndjson.3`) is verified alone, from the checkpoint it starts with.
    public static func fileSet(for path: String) -> [String] {
        let name = (path as NSString).lastPathComponent
        if let dot = name.lastIndex(of: "."), Int(name[name.index(after: dot)...]) != nil {
            return [path]
        }
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

    /// Verifies FileSink NDJSON files in order: entry lines verbatim, checkpoint lines
    /// `{"checkpoint":"<note>"}`. Each file is read in blocks and its lines are verified where
    /// they lie in the block, so memory stays flat whatever the file's size.
    public static func verifyFiles(
        _ paths: [String], verifier: ChainVerifier, progress: (UInt64, UInt64) -> Void = { _, _ in }
    ) -> VerificationReport {
        let totalBytes = paths.reduce(UInt64(0)) { sum, path in
            sum + ((try? FileManager.default.attributesOfItem(atPath: path)[.size] as? UInt64) ?? 0)
        }
        var readBytes: UInt64 = 0
        let checkpointPrefix: StaticString = #"{"checkpoint":"#
        let reader = LineReader()
        for path in paths where !verifier.hasFailed {
            let end = reader.forEachLine(ofFileAt: path) { line, lineNumber, offset in
                if line.count >= checkpointPrefix.utf8CodeUnitCount,
                   memcmp(line.baseAddress!, checkpointPrefix.utf8Start, checkpointPrefix.utf8CodeUnitCount) == 0
                {
                    let location = "\(path):\(lineNumber)"
                    if let value = try? JSONParser.parse([UInt8](line)), case .string(let note)? = value["checkpoint"] {
                        verifier.checkpoint(note, location: location)
                    } else {
                        verifier.malformed("a checkpoint line that is not {\"checkpoint\": \"<note>\"}", location: location)
                    }
                } else {
                    verifier.entry(line, at: .line(lineNumber, of: path))
                }
                if lineNumber % 65_536 == 0 { progress(readBytes + offset, totalBytes) }
                return !verifier.hasFailed
            }
            switch end {
            case .complete(let size):
                readBytes += size
                progress(readBytes, totalBytes)
            case .stopped:
                break
            case .unterminatedLine(let lineNumber):
                verifier.malformed(
                    "the last line has no newline: the file was truncated or a write was torn", location: "\(path):\(lineNumber)")
            case .unreadable:
                verifier.malformed("cannot read the file", location: path)
            }
        }
        return verifier.finish()
    }
}
