import Foundation
import LaForgeCore
import LaForgeJournal
import LaForgePlugins

/// Runs one delivery worker per configured sink, each on its own thread, so a slow sink never
/// holds back another.
public final class DeliveryEngine: @unchecked Sendable {
    // @unchecked: `threads` is only touched by start/wait from the owning thread.
    public let workers: [DeliveryWorker]
    private let log: AuditLog
    private let stopSignal = StopSignal()
    private let drainSignal = StopSignal()
    private let results = LockedValue<[String: Bool]>([:])
    private var threads: [Thread] = []
    private let finished = DispatchGroup()

    public init(log: AuditLog, runtime: PluginRuntime) {
        self.log = log
        let settings = log.config.audit.delivery
        workers = runtime.sinks.map { DeliveryWorker(sink: $0, log: log, settings: settings) }
            + runtime.unstartedSinks.map { DeliveryWorker(unstarted: $0, log: log, settings: settings) }
    }

    /// Starts every worker. With `follow` they run until `stop()`; otherwise each returns once
    /// its sink has caught up with the journal, or at `deadline` (monotonic ns).
    public func start(deadline: UInt64? = nil, follow: Bool = false) {
        for worker in workers {
            finished.enter()
            let thread = Thread { [self] in
                let caughtUp = worker.run(deadline: deadline, follow: follow, stop: stopSignal, drain: drainSignal)
                results.withLock { $0[worker.name] = caughtUp }
                finished.leave()
            }
            thread.name = "laforge-delivery-\(worker.name)"
            threads.append(thread)
            thread.start()
        }
    }

    public func stop() { stopSignal.stop() }

    /// Following workers stop lingering for fuller batches and send what there is (recording
    /// has ended; what remains should reach the sinks now).
    public func drain() { drainSignal.stop() }

    /// Waits for every worker; returns whether each sink was caught up, by sink name.
    @discardableResult
    public func wait() -> [String: Bool] {
        finished.wait()
        return results.withLock { $0 }
    }

    /// Delivers everything recorded so far to every sink, within `timeoutMilliseconds`.
    public static func deliverAll(log: AuditLog, runtime: PluginRuntime, timeoutMilliseconds: Int?) -> [String: Bool] {
        let engine = DeliveryEngine(log: log, runtime: runtime)
        engine.start(deadline: timeoutMilliseconds.map { ClockArithmetic.deadline(afterMilliseconds: $0, now: monotonicNanoseconds()) })
        return engine.wait()
    }
}

extension DeliveryEngine {
    /// Runs `body` (recording) while every sink follows the journal, then keeps delivering until
    /// each sink holds everything recorded (entries and checkpoints) or `timeoutMilliseconds`
    /// after `body` returned. Returns whether each sink caught up, by name.
    public static func deliver(
        log: AuditLog, runtime: PluginRuntime, timeoutMilliseconds: Int?, during body: () throws -> Void
    ) rethrows -> [String: Bool] {
        let engine = DeliveryEngine(log: log, runtime: runtime)
        engine.start(follow: true)
        do { try body() } catch {
            engine.stop()
            engine.wait()
            throw error
        }
        return engine.finish(deadline: timeoutMilliseconds.map { ClockArithmetic.deadline(afterMilliseconds: $0, now: monotonicNanoseconds()) })
    }

    /// Recording has ended: following workers send what there is, and keep delivering until
    /// each sink holds everything recorded by now (entries and the newest checkpoint) or until
    /// `deadline` (monotonic ns; nil: no limit); then every worker stops. Returns whether each
    /// sink caught up, by name; what a sink did not get stays in the journal for the next run.
    public func finish(deadline: UInt64?) -> [String: Bool] {
        drain()
        let target = log.journal.size
        let lastCheckpoint = (try? log.journal.checkpoints().last?.size) ?? nil
        var caughtUp: [String: Bool] = [:]
        while true {
            for worker in workers where caughtUp[worker.name] != true {
                // No cursor yet: the sink has received nothing, which is everything when nothing
                // was recorded (a worker stores a cursor only once it delivered something).
                let cursor: SinkCursor
                do { cursor = try log.cursors.load(worker.name) ?? SinkCursor(nextSeq: 0, checkpointSize: 0) } catch {
                    continue
                }
                if cursor.nextSeq >= target, cursor.checkpointSize >= (lastCheckpoint ?? 0) {
                    caughtUp[worker.name] = true
                }
            }
            if caughtUp.count == workers.count { break }
            if let deadline, monotonicNanoseconds() >= deadline { break }
            usleep(5_000)
        }
        stop()
        wait()
        return Dictionary(uniqueKeysWithValues: workers.map { ($0.name, caughtUp[$0.name] == true) })
    }

    /// Where delivery to each sink stands, in configuration order.
    public func status() -> [SinkDeliveryStatus] {
        workers.map { worker in
            worker.progress.status(sink: worker.name, lagEntries: Self.lagEntries(log: log, sink: worker.name))
        }
    }

    /// Entries the journal holds beyond the sink's durable cursor.
    public static func lagEntries(log: AuditLog, sink: String) -> UInt64 {
        let size = log.journal.knownSize
        let next = (try? log.cursors.load(sink))?.nextSeq ?? 0
        return size > next ? size - next : 0
    }
}
