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
}
