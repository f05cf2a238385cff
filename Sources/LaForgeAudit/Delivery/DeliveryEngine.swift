import Foundation
import LaForgeCore
import LaForgePlugins

/// Runs one delivery worker per configured sink, each on its own thread, so a slow sink never
/// holds back another.
public final class DeliveryEngine: @unchecked Sendable {
    // @unchecked: `threads` is only touched by start/wait from the owning thread.
    public let workers: [DeliveryWorker]
    private let stopSignal = StopSignal()
    private let drainSignal = StopSignal()
    private let results = LockedValue<[String: Bool]>([:])
    private var threads: [Thread] = []
    private let finished = DispatchGroup()

    public init(log: AuditLog, runtime: PluginRuntime) {
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
        engine.drain()
        let deadline = timeoutMilliseconds.map { ClockArithmetic.deadline(afterMilliseconds: $0, now: monotonicNanoseconds()) }
        let target = log.journal.size
        let lastCheckpoint = (try? log.journal.checkpoints().last?.size) ?? nil
        var caughtUp: [String: Bool] = [:]
        while true {
            for worker in engine.workers where caughtUp[worker.name] != true {
                if let cursor = try? log.cursors.load(worker.name), cursor.nextSeq >= target,
                   cursor.checkpointSize >= (lastCheckpoint ?? 0) {
                    caughtUp[worker.name] = true
                }
            }
            if caughtUp.count == engine.workers.count { break }
            // A sink whose plugin has not started is not waited for once every other sink has
            // what was recorded (its worker retried create meanwhile): the journal holds its
            // entries for `laforge audit deliver`, and emit need not sit out its whole timeout.
            if engine.workers.allSatisfy({ caughtUp[$0.name] == true || !$0.isStarted }) { break }
            if let deadline, monotonicNanoseconds() >= deadline { break }
            usleep(5_000)
        }
        engine.stop()
        engine.wait()
        return Dictionary(uniqueKeysWithValues: engine.workers.map { ($0.name, caughtUp[$0.name] == true) })
    }
}
