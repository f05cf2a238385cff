import Foundation
import LaForgeCore
import LaForgeJournal
import LaForgePlugins

/// `laforge audit status`: what the journal holds, how much of it no checkpoint covers yet, and
/// where each sink stands, read from the files alone (the journal read-only, the cursors, the
/// sinks' start records), so it answers while other processes record and deliver, and while a
/// sink or the KMS that unwraps the checkpoint key is down.
public struct AuditStatus: Sendable {
    public struct Sink: Sendable {
        public var name: String
        /// The first entry the sink has not stored (0 before its first delivery).
        public var nextSeq: UInt64
        public var lag: UInt64
        /// Why its plugin has not started (`<time> attempt N: <reason>`), nil when it has.
        public var notStarted: String?
    }

    public var entries: UInt64
    /// The size of the newest stored checkpoint (0: none).
    public var checkpointSize: UInt64
    /// Entries no checkpoint covers yet: signed within `every_entries`/`every_ms` normally;
    /// while the checkpoint key is unavailable they grow, and the next checkpoint covers them.
    public var uncoveredEntries: UInt64 { entries - min(entries, checkpointSize) }
    public var sinks: [Sink]

    public static func read(config: LaForgeConfig) throws(AuditLogError) -> AuditStatus {
        let reader = JournalFileReader(directory: (config.stateDir as NSString).appendingPathComponent("journal"))
        var entries: UInt64 = 0
        var checkpointSize: UInt64 = 0
        do {
            let extent = try reader.extent()
            entries = reader.entryCount(extent: extent)
            checkpointSize = reader.checkpoints(upTo: extent.checkpointLogSize).frames.last?.0.size ?? 0
        } catch {
            if case .noJournal = error {} else { throw AuditLogError(.storage, error.description) }
        }
        let cursors = CursorStore(stateDirectory: config.stateDir)
        var sinks: [Sink] = []
        for sink in config.sinks {
            let cursor: SinkCursor?
            do { cursor = try cursors.load(sink.name) } catch { throw AuditLogError(.storage, "\(error)") }
            let next = cursor?.nextSeq ?? 0
            sinks.append(Sink(
                name: sink.name, nextSeq: next, lag: entries - min(entries, next),
                notStarted: SinkStartStatus(stateDirectory: config.stateDir, sink: sink.name).failure()))
        }
        return AuditStatus(entries: entries, checkpointSize: checkpointSize, sinks: sinks)
    }

    public func jsonValue() -> JSONValue {
        .object([
            "entries": .number(Double(entries)), "checkpoint_size": .number(Double(checkpointSize)),
            "uncovered_entries": .number(Double(uncoveredEntries)),
            "sinks": .array(sinks.map { sink in
                .object([
                    "name": .string(sink.name), "next_seq": .number(Double(sink.nextSeq)), "lag": .number(Double(sink.lag)),
                    "started": .bool(sink.notStarted == nil), "not_started": sink.notStarted.map(JSONValue.string) ?? .null,
                ])
            }),
        ])
    }

    /// The text `laforge audit status` prints.
    public var lines: [String] {
        var lines = ["journal: \(entries) entries, newest checkpoint of size \(checkpointSize)"]
        if uncoveredEntries > 0 {
            lines.append(
                "uncovered: \(uncoveredEntries) entries no checkpoint covers yet (the next checkpoint covers them; "
                    + "if the checkpoint key's KMS is down, that is when it is back)")
        }
        for sink in sinks {
            var line = "sink \(sink.name): next seq \(sink.nextSeq), \(sink.lag) behind"
            if let reason = sink.notStarted { line += "; not started: \(reason)" }
            lines.append(line)
        }
        return lines
    }
}
