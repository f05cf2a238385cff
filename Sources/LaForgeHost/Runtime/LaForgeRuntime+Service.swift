import Foundation
import ServiceLifecycle

/// A Swift server runs the runtime beside its own services: `ServiceGroup` calls `run()`, which
/// starts delivery and waits; on graceful shutdown (SIGTERM through the group's
/// `gracefulShutdownSignals`, or `triggerGracefulShutdown()`) or cancellation it drains with
/// `shutdown()` and returns. Run the runtime's service after the services that emit through it
/// in the group's list: the group shuts services down in reverse order, so they stop first.
extension LaForgeRuntime: Service {
    public func run() async throws {
        try start()
        // Returns on graceful shutdown, throws CancellationError when cancelled: drain either way.
        try? await gracefulShutdown()
        // shutdown() blocks (disk syncs, sink writes up to the timeout): on its own thread, so
        // the concurrency pool's few threads keep serving the other services meanwhile.
        let report: ShutdownReport = await withCheckedContinuation { continuation in
            let thread = Thread { continuation.resume(returning: self.shutdown()) }
            thread.name = "laforge-shutdown"
            thread.start()
        }
        if !report.isClean { logger.warning("LaForge runtime stopped with undelivered entries or problems (see above)") }
    }
}
