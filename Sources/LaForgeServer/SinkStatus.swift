import Foundation
import LaForgeHost

/// One sink's delivery as `/readyz` and `laforge status` show it, read from durable state (its
/// cursor, its dead-letter file) and the host's counters, so it means the same with or without
/// a running server.
public struct SinkStatus: Sendable, Equatable {
    public var name: String
    /// Entries the journal holds that the sink has not acknowledged.
    public var lagEntries: UInt64
    /// How long the oldest of those has waited (from its timestamp); 0 when caught up.
    public var lagSeconds: Double
    /// Whether the sink holds the newest checkpoint.
    public var checkpointCovered: Bool
    public var retries: Double
    public var deadLetters: Int

    public var isCaughtUp: Bool { lagEntries == 0 && checkpointCovered }

    public func jsonValue() -> JSONValue {
        .object([
            "name": .string(name), "lag_entries": .number(Double(lagEntries)), "lag_seconds": .number(lagSeconds),
            "checkpoint_covered": .bool(checkpointCovered), "retries": .number(retries), "dead_letters": .number(Double(deadLetters)),
        ])
    }

    /// The status of every sink configured in `config`, against `journal`.
    public static func all(config: LaForgeConfig, journal: Journal, metrics: MetricsRegistry?) -> [SinkStatus] {
        let cursors = CursorStore(stateDirectory: config.stateDir)
        let size = (try? journal.currentSize()) ?? journal.knownSize
        let newestCheckpoint = (try? journal.checkpoints().last?.size) ?? nil
        return config.sinks.map { sink in
            let cursor = (try? cursors.load(sink.name)) ?? nil
            let next = cursor?.nextSeq ?? 0
            let lag = size > next ? size - next : 0
            var lagSeconds = 0.0
            if lag > 0, let entry = try? journal.entries(from: next, maxCount: 1, maxBytes: 1 << 20).first,
                let parsed = try? AuditEntry.parse(entry.payload),
                let text = parsed.event["timestamp"]?.stringValue, let time = AuditTimestamp(rfc3339: text)
            {
                lagSeconds = max(0, Date().timeIntervalSince1970 - Double(time.microseconds) / 1_000_000)
            }
            let covered = newestCheckpoint.map { (cursor?.checkpointSize ?? 0) >= $0 } ?? true
            let deadLetterPath = DeadLetterFile(stateDirectory: config.stateDir, sink: sink.name).path
            let deadLetters = ((try? String(contentsOfFile: deadLetterPath, encoding: .utf8)) ?? "").split(separator: "\n").count
            return SinkStatus(
                name: sink.name, lagEntries: lag, lagSeconds: lagSeconds, checkpointCovered: covered,
                retries: metrics?.sample("laforge_delivery_retries_total", labels: ["sink": sink.name])?.value ?? 0,
                deadLetters: deadLetters)
        }
    }
}

extension ServedHost {
    public func sinkStatuses() -> [SinkStatus] { SinkStatus.all(config: config, journal: log.journal, metrics: metrics) }
}
