import LaForgeCore

/// Where delivery to one sink stands: what a readiness probe or `laforge status` reports.
///
/// Counters cover this process since its delivery workers started (the metrics of the same
/// names say the same); the lag is read from the sink's durable cursor and the journal, so it
/// is right even before the first worker ran.
public struct SinkDeliveryStatus: Sendable, Equatable {
    /// The sink instance's name (`audit.sinks[].name`).
    public var sink: String
    /// Entries the journal holds that the sink has not acknowledged yet.
    public var lagEntries: UInt64
    /// How long the sink has been behind, in seconds: since a worker of this process first saw
    /// entries waiting that the sink has not stored since. 0 when caught up or not yet seen behind.
    public var lagSeconds: Double
    /// The last failed write's message (nil if none failed since the workers started). Kept
    /// after the sink recovers, with `failing` telling whether it still fails.
    public var lastError: String?
    /// Whether the last write to the sink failed (it is retried or asked again later).
    public var failing: Bool
    /// Writes answered RETRY (or broken by the plugin) and tried again.
    public var retries: UInt64
    /// Writes refused with ACCESS_DENIED: the sink needs an operator, nothing is dropped.
    public var refusals: UInt64
    /// Records refused permanently and written to the sink's dead-letter file.
    public var deadLetters: UInt64
    /// Records the sink acknowledged.
    public var delivered: UInt64
    /// Whether a delivery worker of this process is feeding the sink now.
    public var running: Bool
    /// Whether the sink's plugin instance exists. One whose create failed is retried by its
    /// worker with the delivery backoff; `lastError` says why it has not started.
    public var started: Bool

    public init(
        sink: String, lagEntries: UInt64 = 0, lagSeconds: Double = 0, lastError: String? = nil, failing: Bool = false,
        retries: UInt64 = 0, refusals: UInt64 = 0, deadLetters: UInt64 = 0, delivered: UInt64 = 0, running: Bool = false,
        started: Bool = true
    ) {
        self.sink = sink
        self.lagEntries = lagEntries
        self.lagSeconds = lagSeconds
        self.lastError = lastError
        self.failing = failing
        self.retries = retries
        self.refusals = refusals
        self.deadLetters = deadLetters
        self.delivered = delivered
        self.running = running
        self.started = started
    }

    /// The status as JSON (snake_case keys, as `laforge` prints them).
    public func jsonValue() -> JSONValue {
        .object([
            "sink": .string(sink), "lag_entries": .number(Double(lagEntries)), "lag_seconds": .number(lagSeconds),
            "last_error": lastError.map(JSONValue.string) ?? .null, "failing": .bool(failing),
            "retries": .number(Double(retries)), "refusals": .number(Double(refusals)),
            "dead_letters": .number(Double(deadLetters)), "delivered": .number(Double(delivered)), "running": .bool(running),
            "started": .bool(started),
        ])
    }
}
