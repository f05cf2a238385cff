import Foundation
import LaForgeHost

/// The body of `/readyz` and of `laforge status --json`: the journal, the newest checkpoint (its
/// age and whether it covers the newest entries) and each sink's delivery. Built the same way
/// from a running server's live status and, without a server, from the state directory.
public enum ServeStatus {
    public static func body(
        source: String, sinks: [SinkDeliveryStatus], journalEntries: UInt64, checkpoint: StoredCheckpoint?, plugins: Int
    ) -> JSONValue {
        var checkpointAge: JSONValue = .null
        if let checkpoint, let payload = try? JSONParser.parse(checkpoint.payload), let signed = payload["signed_at_us"]?.numberValue {
            checkpointAge = .number(max(0, Date().timeIntervalSince1970 - signed / 1e6))
        }
        return .object([
            "status": .string(sinks.contains(where: \.failing) ? "degraded" : "ready"), "source": .string(source),
            "journal_entries": .number(Double(journalEntries)), "checkpoint_size": .number(Double(checkpoint?.size ?? 0)),
            "checkpoint_age_seconds": checkpointAge, "newest_covered": .bool((checkpoint?.size ?? 0) == journalEntries),
            "plugins": .number(Double(plugins)), "sinks": .array(sinks.map { $0.jsonValue() }),
        ])
    }

    /// What the state directory alone tells (no server running): lag from each sink's cursor,
    /// how long the oldest undelivered entry has waited, dead letters from the dead-letter files.
    /// Retries, refusals and the last error live only in a running process and read as 0/none.
    public static func fromStateDirectory(config: LaForgeConfig) throws(AuditLogError) -> JSONValue {
        let reader = try AuditReader.open(config: config)
        let size = try reader.size()
        // Read-only, as the CLI reads: the journal's files, never a writer's handle.
        let files = JournalFileReader(directory: reader.directory)
        var checkpoint: StoredCheckpoint?
        if let extent = try? files.extent() { checkpoint = files.checkpoints(upTo: extent.checkpointLogSize).frames.last?.0 }
        let cursors = CursorStore(stateDirectory: config.stateDir)
        let sinks = config.sinks.map { sink -> SinkDeliveryStatus in
            let next = ((try? cursors.load(sink.name)) ?? nil)?.nextSeq ?? 0
            let lag = size > next ? size - next : 0
            var waited = 0.0
            if lag > 0, let entry = try? reader.scan(from: next, limit: 1).first,
                let parsed = try? AuditEntry.parse(entry.payload), let text = parsed.event["timestamp"]?.stringValue,
                let time = AuditTimestamp(rfc3339: text)
            {
                waited = max(0, Date().timeIntervalSince1970 - Double(time.microseconds) / 1e6)
            }
            // Open ones only: a dead letter replayed or purged (`laforge deadletter`) is dealt with.
            let deadLetters = (try? DeadLetterQueue(stateDirectory: config.stateDir, sink: sink.name).open().count) ?? 0
            return SinkDeliveryStatus(sink: sink.name, lagEntries: lag, lagSeconds: waited, deadLetters: UInt64(deadLetters))
        }
        return body(source: "state_directory", sinks: sinks, journalEntries: size, checkpoint: checkpoint, plugins: config.pluginInstances.count)
    }
}
