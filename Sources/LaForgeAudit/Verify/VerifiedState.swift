import Foundation
import LaForgeCore
import LaForgeJournal
import LaForgePlugins

/// What the verifier established about a store the last time it passed, kept by the verifier
/// outside the store (`verify chain --state FILE`): how many entries it held and the root of its
/// newest checkpoint. A store can only grow and its history never changes, so a store that now
/// holds fewer entries (cut, emptied, its oldest files removed) or gives another root at that
/// size fails, although what is left may verify on its own.
public struct VerifiedState: Sendable, Equatable {
    /// What was verified (`journal in /var/lib/laforge`, `sink file`), named in failures.
    public var source: String
    public var entries: UInt64
    public var checkpointSize: UInt64?
    public var checkpointRoot: [UInt8]?
    /// RFC 3339 UTC.
    public var verifiedAt: String

    public init(source: String, entries: UInt64, checkpointSize: UInt64?, checkpointRoot: [UInt8]?, verifiedAt: String) {
        self.source = source
        self.entries = entries
        self.checkpointSize = checkpointSize
        self.checkpointRoot = checkpointRoot
        self.verifiedAt = verifiedAt
    }

    /// The state a passing report establishes.
    public init(report: VerificationReport, source: String, at date: Date = Date()) {
        self.init(
            source: source, entries: report.lastSeq.map { $0 + 1 } ?? 0, checkpointSize: report.lastCheckpointSize,
            checkpointRoot: report.lastCheckpointRoot, verifiedAt: AuditTimestamp(microseconds: Int64(date.timeIntervalSince1970 * 1_000_000)).description)
    }

    public struct FileError: Error, CustomStringConvertible {
        public var path: String
        public var message: String
        public var description: String { "\(path): \(message)" }
    }

    /// Reads the state kept in `path`; nil when there is none yet (the first verification).
    public static func load(path: String) throws(FileError) -> VerifiedState? {
        guard let data = FileManager.default.contents(atPath: path) else {
            if FileManager.default.fileExists(atPath: path) { throw FileError(path: path, message: "cannot be read") }
            return nil
        }
        guard let value = try? JSONParser.parse([UInt8](data)), let entries = value["entries"]?.numberValue,
            entries >= 0, entries < 9_007_199_254_740_992, let source = value["source"]?.stringValue,
            let verifiedAt = value["verified_at"]?.stringValue
        else {
            throw FileError(path: path, message: "not a verification state file (source, entries, verified_at)")
        }
        var root: [UInt8]?
        if let hex = value["checkpoint_root"]?.stringValue {
            guard let bytes = [UInt8](hexString: hex), bytes.count == 32 else {
                throw FileError(path: path, message: "checkpoint_root is not 64 hex digits")
            }
            root = bytes
        }
        return VerifiedState(
            source: source, entries: UInt64(entries), checkpointSize: value["checkpoint_size"]?.numberValue.map { UInt64($0) },
            checkpointRoot: root, verifiedAt: verifiedAt)
    }

    /// Replaces the file atomically (a crash leaves the old state or the new, never half).
    public func save(path: String) throws(FileError) {
        var object: [String: JSONValue] = [
            "source": .string(source), "entries": .number(Double(entries)), "verified_at": .string(verifiedAt),
        ]
        if let checkpointSize { object["checkpoint_size"] = .number(Double(checkpointSize)) }
        if let checkpointRoot { object["checkpoint_root"] = .string(checkpointRoot.hexString) }
        do {
            try Data((JSONCanonicalizer.canonicalString(.object(object)) + "\n").utf8)
                .write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw FileError(path: path, message: "cannot be written: \(error.localizedDescription)")
        }
    }
}
