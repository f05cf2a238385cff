import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Reopen-on-SIGHUP, the logrotate convention: logrotate renames the file, then signals the
/// process; each instance sees the generation change at its next write and reopens its path.
///
/// The generation counter is the plugin's only global mutable state. The handler does nothing
/// but a lock-free atomic increment, which is async-signal-safe; all file work happens on the
/// writer's thread. The embedding process must not ignore or block SIGHUP (a `nohup` launch
/// sets it to SIG_IGN before the plugin loads; the plugin installs its handler anyway).
enum ReopenSignal {
    private static let generation = Atomic<UInt64>(0)

    /// Installs the handler the first time any instance is created (Swift runs a static
    /// initializer exactly once, thread-safely). Returns why it did not, if it did not.
    static func installOnce() -> String? { installation }

    private static let installation: String? = {
        var previous = sigaction()
        guard sigaction(SIGHUP, nil, &previous) == 0 else {
            return "cannot read the SIGHUP disposition: \(SystemCall.describe(errno))"
        }
        // Another component already handles SIGHUP: replacing its handler would silently break
        // it, so leave it; the sink still reopens when health() finds the file moved.
        let existing = unsafeBitCast(previous.__sigaction_handler.sa_handler, to: Int.self)
        let ignore = unsafeBitCast(SIG_IGN, to: Int.self)
        let fallback = unsafeBitCast(SIG_DFL, to: Int.self)
        if existing != ignore && existing != fallback {
            return "SIGHUP already has a handler in this process; FileSink will not reopen its files on SIGHUP"
        }
        // Initialize the counter here, so the handler never runs a lazy initializer.
        _ = generation.load(ordering: .relaxed)
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { _ in
            ReopenSignal.generation.add(1, ordering: .relaxed)
        }
        // SA_RESTART: the embedder's blocking calls resume instead of failing with EINTR.
        action.sa_flags = SA_RESTART
        sigemptyset(&action.sa_mask)
        guard sigaction(SIGHUP, &action, nil) == 0 else {
            return "cannot install the SIGHUP handler: \(SystemCall.describe(errno))"
        }
        return nil
    }()

    static var current: UInt64 { generation.load(ordering: .relaxed) }
}
