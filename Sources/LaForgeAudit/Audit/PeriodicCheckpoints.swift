import Foundation
import LaForgeCore

/// Signs checkpoints on time in long-running processes (generated services, `laforge audit
/// deliver --follow`): without it, the last entries of a quiet period stay unsigned until the
/// next emit. Checks every `audit.checkpoints.every_ms` (at least every 50 ms, at most every
/// second) and signs when a checkpoint is due; stops when released or `stop()` is called.
public final class PeriodicCheckpoints: @unchecked Sendable {
    private let stopSignal = StopSignal()
    private let finished = DispatchSemaphore(value: 0)

    public init(log: AuditLog) {
        let interval = min(max(log.config.audit.checkpoints.everyMilliseconds, 50), 1000)
        let stop = stopSignal
        let done = finished
        let thread = Thread {
            while !stop.isStopped {
                usleep(UInt32(interval) * 1000)
                do { try log.signCheckpointIfDue() } catch {
                    log.logger.error("audit: periodic checkpoint failed: \(error)")
                }
            }
            done.signal()
        }
        thread.name = "laforge-checkpoints"
        thread.start()
    }

    public func stop() {
        guard !stopSignal.isStopped else { return }
        stopSignal.stop()
        finished.wait()
    }

    deinit { stop() }
}
