import LaForgeHost
import NIOConcurrencyHelpers
import NIOPosix

/// Where the server runs calls that block (journal appends waiting for their group's fsync,
/// plugin calls, proofs over the journal) so the event loops never wait on the disk, and how many
/// requests it takes on at once.
///
/// The threads are many on purpose: each waiting emit holds one, and concurrent emits share one
/// group commit only if they reach the journal's queue together.
final class BlockingWork: Sendable {
    private let pool: NIOThreadPool
    private let inFlight = NIOLockedValueBox(0)
    private let limit: NIOLockedValueBox<Int>

    init(threads: Int, maxInFlight: Int) {
        pool = NIOThreadPool(numberOfThreads: threads)
        pool.start()
        limit = NIOLockedValueBox(maxInFlight)
    }

    /// Runs `body` on a pool thread.
    func run<Value: Sendable>(_ body: @escaping @Sendable () throws -> Value) async throws -> Value {
        try await pool.runIfActive(body)
    }

    /// Counts a request in; false (and not counted) when `serve.max_in_flight` are already in.
    func admit() -> Bool {
        let max = limit.withLockedValue { $0 }
        return inFlight.withLockedValue { count in
            guard count < max else { return false }
            count += 1
            return true
        }
    }

    func release() { inFlight.withLockedValue { $0 -= 1 } }

    var current: Int { inFlight.withLockedValue { $0 } }

    func setLimit(_ value: Int) { limit.withLockedValue { $0 = value } }

    func shutdown() async { try? await pool.shutdownGracefully() }
}
