import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// SIGHUP → `PluginRuntime.reopenSinks()` for as long as this lives: how a long-running host
/// (`audit deliver`, `audit emit`, a service embedding the runtime) follows logrotate, whose
/// postrotate sends SIGHUP to the host. The host owns the signal; sinks only get the reopen call
/// (ABI 1.2). When the last watch ends, SIGHUP gets back the disposition it had before the first.
public final class SinkReopenOnHangup {
    public init(_ runtime: PluginRuntime) {
        HangupSignal.watch(ObjectIdentifier(self), runtime)
    }

    deinit { HangupSignal.unwatch(ObjectIdentifier(self)) }
}

/// The process-wide part: a handler that only writes one byte to a pipe (async-signal-safe), and
/// one thread that accepts SIGHUP, reads the pipe and reopens the watched runtimes' sinks outside
/// the signal handler. A Dispatch signal source loses the signal when it is ignored in the thread
/// the kernel picks.
private enum HangupSignal {
    private static let writeEnd = Atomic<Int32>(-1)
    private struct State {
        var watched: [ObjectIdentifier: PluginRuntime] = [:]
        var previous: sigaction?
        var readerStarted = false
    }
    private static let state = Mutex(State())

    static func watch(_ id: ObjectIdentifier, _ runtime: PluginRuntime) {
        state.withLock { state in
            if !state.readerStarted {
                var ends: [Int32] = [-1, -1]
                guard pipe(&ends) == 0 else {
                    runtime.logger.error("cannot reopen sinks on SIGHUP: pipe() failed (errno \(errno))")
                    return
                }
                for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
                // The handler must never block in write(): a full pipe already means "reopen".
                _ = fcntl(ends[1], F_SETFL, fcntl(ends[1], F_GETFL) | O_NONBLOCK)
                writeEnd.store(ends[1], ordering: .releasing)
                let readEnd = ends[0]
                let reader = Thread { readLoop(readEnd) }
                reader.name = "laforge-sighup"
                reader.start()
                state.readerStarted = true
            }
            if state.watched.isEmpty {
                var action = sigaction()
                action.__sigaction_handler.sa_handler = { _ in
                    let saved = errno
                    var byte: UInt8 = 1
                    _ = write(HangupSignal.writeEnd.load(ordering: .relaxed), &byte, 1)
                    errno = saved
                }
                // SA_RESTART: the host's blocking calls resume instead of failing with EINTR.
                action.sa_flags = SA_RESTART
                sigemptyset(&action.sa_mask)
                var previous = sigaction()
                if sigaction(SIGHUP, &action, &previous) == 0 { state.previous = previous }
            }
            state.watched[id] = runtime
        }
    }

    static func unwatch(_ id: ObjectIdentifier) {
        state.withLock { state in
            state.watched[id] = nil
            if state.watched.isEmpty, var previous = state.previous {
                sigaction(SIGHUP, &previous, nil)
                state.previous = nil
            }
        }
    }

    private static func readLoop(_ readEnd: Int32) {
        // A process may start with SIGHUP blocked in every thread (the mask survives exec; test
        // runners and some supervisors block it): this thread accepts it, so the kernel always
        // has a thread to run the handler on.
        var hangup = sigset_t()
        sigemptyset(&hangup)
        sigaddset(&hangup, SIGHUP)
        pthread_sigmask(SIG_UNBLOCK, &hangup, nil)
        var buffer = [UInt8](repeating: 0, count: 64)
        while true {
            let count = read(readEnd, &buffer, buffer.count)
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { return }
            // Several signals that arrived together need one reopen.
            let runtimes = state.withLock { Array($0.watched.values) }
            for runtime in runtimes { runtime.reopenSinks() }
        }
    }
}
