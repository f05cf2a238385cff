import Foundation

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
        while next < total, !verifier.hasFailed {
            let entries = try journal.entries(from: next, maxCount: 16_384, maxBytes: 32 << 20)
            guard !entries.isEmpty else { break }
            for entry in entries {
                verifier.entry(entry.payload, location: "journal seq \(entry.seq)")
                feedCheckpoints(upTo: entry.seq + 1)
                if verifier.hasFailed { break }
            }
            next = entries.last!.seq + 1
            progress(next, total)
        }
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
    /// `{"checkpoint":"<note>"}`.
    public static func verifyFiles(
        _ paths: [String], verifier: ChainVerifier, progress: (UInt64, UInt64) -> Void = { _, _ in }
    ) -> VerificationReport {
        let totalBytes = paths.reduce(UInt64(0)) { sum, path in
            sum + ((try? FileManager.default.attributesOfItem(atPath: path)[.size] as? UInt64) ?? 0)
        }
        var readBytes: UInt64 = 0
        let checkpointPrefix = Array(#"{"checkpoint":"#.utf8)
        for path in paths where !verifier.hasFailed {
            guard let data = FileManager.default.contents(atPath: path) else {
                verifier.malformed("cannot read the file", location: path)
                break
            }
            let bytes = [UInt8](data)
            var lineStart = 0
            var lineNumber = 0
            while lineStart < bytes.count, !verifier.hasFailed {
                lineNumber += 1
                guard let newline = bytes[lineStart...].firstIndex(of: 0x0A) else {
                    verifier.malformed(
                        "the last line has no newline: the file was truncated or a write was torn", location: "\(path):\(lineNumber)")
                    break
                }
                let line = Array(bytes[lineStart..<newline])
                let location = "\(path):\(lineNumber)"
                if line.starts(with: checkpointPrefix) {
                    if let value = try? JSONParser.parse(line), case .string(let note)? = value["checkpoint"] {
                        verifier.checkpoint(note, location: location)
                    } else {
                        verifier.malformed("a checkpoint line that is not {\"checkpoint\": \"<note>\"}", location: location)
                    }
                } else {
                    verifier.entry(line, location: location)
                }
                lineStart = newline + 1
                if lineNumber % 65_536 == 0 { progress(readBytes + UInt64(lineStart), totalBytes) }
            }
            readBytes += UInt64(bytes.count)
            progress(readBytes, totalBytes)
        }
        return verifier.finish()
    }
}
