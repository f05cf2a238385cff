import Foundation
import LaForgeCore
import LaForgePlugins

/// `<state_dir>/deadletter/<sink>.ndjson`: records a sink refused permanently, one JSON line
/// each with the refusal, so nothing leaves the pipeline without a trace (the entry also stays
/// in the journal, and the refusal is itself recorded as an `audit.dead_letter` event).
public struct DeadLetterFile: Sendable {
    public let path: String

    public init(stateDirectory: String, sink: String) {
        path = (stateDirectory as NSString).appendingPathComponent("deadletter/\(sink).ndjson")
    }

    public func append(record: AuditRecord, sink: String, error: String) throws {
        let line: JSONValue = .object([
            "sink": .string(sink),
            "kind": .string(record.kind == .entry ? "entry" : "checkpoint"),
            "seq": .number(Double(record.seq)),
            "hash": .string(record.hash.hexString),
            "error": .string(error),
            "time": .string(AuditTimestamp.now().description),
            "record": .string(String(decoding: record.data, as: UTF8.self)),
        ])
        try Self.appendDurably(line, to: path)
    }

    /// Appends one canonical JSON line and syncs it before returning: a dead letter or a
    /// disposition that a crash could lose would make a replay send twice or not at all.
    static func appendDurably(_ line: JSONValue, to path: String) throws {
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o700])
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        defer { close(fd) }
        let bytes = JSONCanonicalizer.canonicalize(line) + [0x0A]
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count, fdatasync(fd) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
    }

    /// Every dead letter in the file, oldest first; none when the file does not exist. A line
    /// that is not one this host wrote is an error naming the file and the line: nothing is
    /// guessed, and nothing is replayed from a file that was edited by hand.
    public func read() throws(DeadLetterError) -> [DeadLetter] {
        guard FileManager.default.fileExists(atPath: path) else { return [] }
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw DeadLetterError(.storage, "\(path): cannot read: \(error.localizedDescription)")
        }
        var letters: [DeadLetter] = []
        for (index, line) in Self.completeLines(text).enumerated() where !line.isEmpty {
            let where_ = "\(path):\(index + 1)"
            guard let value = try? JSONParser.parse(Array(line.utf8)) else {
                throw DeadLetterError(.corrupt, "\(where_): not a JSON line")
            }
            func field(_ key: String) throws(DeadLetterError) -> String {
                guard let text = value[key]?.stringValue else {
                    throw DeadLetterError(.corrupt, "\(where_): field \"\(key)\" is missing or not a string")
                }
                return text
            }
            let kindText = try field("kind")
            guard let kind: AuditRecordKind = kindText == "entry" ? .entry : kindText == "checkpoint" ? .checkpoint : nil else {
                throw DeadLetterError(.corrupt, "\(where_): field \"kind\" is \(quotedForMessage(kindText)), not entry or checkpoint")
            }
            guard let seq = value["seq"]?.intValue, seq >= 0 else {
                throw DeadLetterError(.corrupt, "\(where_): field \"seq\" is missing or not a non-negative integer")
            }
            letters.append(
                DeadLetter(
                    line: index + 1, sink: try field("sink"), id: .init(kind: kind, seq: UInt64(seq)), hash: try field("hash"),
                    error: try field("error"), time: try field("time"), record: try field("record")))
        }
        return letters
    }

    /// The lines of an append-only file, without a last line a crash cut short (no newline):
    /// `appendDurably` returned for none of those, so nobody relied on them.
    static func completeLines(_ text: String) -> [Substring] {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        lines.removeLast()  // after the last newline: empty, or a torn line
        return lines
    }
}
