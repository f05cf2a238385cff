import Foundation
import LaForgeCore

/// Runs `body` on `threads` threads started together, `iterations` times on each, and returns
/// every result. Real threads, not a dispatch pool: a pool on a two-core machine may run the
/// work two at a time and never produce the overlap the check is after.
func runOnThreads<T: Sendable>(
    threads: Int, iterations: Int, _ body: @escaping @Sendable (_ thread: Int, _ iteration: Int) -> T
) -> [T] {
    let results = LockedValue<[T]>([])
    let start = DispatchSemaphore(value: 0)
    let done = DispatchGroup()
    for thread in 0..<threads {
        done.enter()
        Thread {
            start.wait()
            var mine: [T] = []
            mine.reserveCapacity(iterations)
            for iteration in 0..<iterations { mine.append(body(thread, iteration)) }
            results.withLock { $0.append(contentsOf: mine) }
            done.leave()
        }.start()
    }
    for _ in 0..<threads { start.signal() }
    done.wait()
    return results.withLock { $0 }
}
