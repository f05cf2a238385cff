import Foundation

/// Enforces an instance's declared threading contract and its lifecycle: a SERIAL instance is
/// never entered by two threads at once; a CONCURRENT one may be, but never while it is being
/// destroyed; nothing is called after destroy (fluent-bit #949 wrote to a failed instance).
final class PluginCallGate: @unchecked Sendable {
    private var rwlock = pthread_rwlock_t()
    private let concurrent: Bool
    private var closed = false

    init(concurrent: Bool) {
        self.concurrent = concurrent
        pthread_rwlock_init(&rwlock, nil)
    }

    deinit { pthread_rwlock_destroy(&rwlock) }

    /// Runs `body` as a call into the plugin, or returns nil when the instance is closed.
    func call<R>(_ body: () throws -> R) rethrows -> R? {
        if concurrent { pthread_rwlock_rdlock(&rwlock) } else { pthread_rwlock_wrlock(&rwlock) }
        defer { pthread_rwlock_unlock(&rwlock) }
        if closed { return nil }
        return try body()
    }

    /// Waits for calls in flight, then runs `body` (the destroy) once. Later calls get nil.
    func close(_ body: () -> Void) {
        pthread_rwlock_wrlock(&rwlock)
        defer { pthread_rwlock_unlock(&rwlock) }
        guard !closed else { return }
        closed = true
        body()
    }
}
