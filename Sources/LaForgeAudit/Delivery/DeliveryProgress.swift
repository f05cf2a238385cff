import LaForgeCore

/// What one delivery worker has seen, readable from any thread while it runs: the source of
/// `SinkDeliveryStatus`. The worker writes it where it also updates its metrics.
public final class DeliveryProgress: Sendable {
    struct Counters {
        var lastError: String?
        var failing = false
        var retries: UInt64 = 0
        var refusals: UInt64 = 0
        var deadLetters: UInt64 = 0
        var delivered: UInt64 = 0
        /// Since when (monotonic ns) the sink has been behind; nil when caught up.
        var behindSince: UInt64?
        var running = false
        var started = true
    }

    private let counters = LockedValue(Counters())

    init() {}

    func update(_ body: (inout Counters) -> Void) { counters.withLock { body(&$0) } }

    /// The worker read a batch: `lag` entries were waiting for the sink.
    func observed(lag: UInt64) {
        counters.withLock { counters in
            if lag == 0 {
                counters.behindSince = nil
            } else if counters.behindSince == nil {
                counters.behindSince = monotonicNanoseconds()
            }
        }
    }

    func failed(_ message: String) {
        counters.withLock {
            $0.lastError = message
            $0.failing = true
        }
    }

    func stored(_ count: Int) {
        guard count > 0 else { return }
        counters.withLock {
            $0.delivered += UInt64(count)
            $0.failing = false
        }
    }

    /// The status for `sink`, with the lag in entries the caller read from cursor and journal.
    public func status(sink: String, lagEntries: UInt64) -> SinkDeliveryStatus {
        let counters = counters.withLock { $0 }
        let behindFor = counters.behindSince.map { Double(ClockArithmetic.elapsed(since: $0, now: monotonicNanoseconds())) / 1e9 }
        return SinkDeliveryStatus(
            sink: sink, lagEntries: lagEntries, lagSeconds: lagEntries == 0 ? 0 : behindFor ?? 0,
            lastError: counters.lastError, failing: counters.failing, retries: counters.retries, refusals: counters.refusals,
            deadLetters: counters.deadLetters, delivered: counters.delivered, running: counters.running,
            started: counters.started)
    }
}
