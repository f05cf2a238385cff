/// A flag a caller sets to stop workers (Ctrl-C, shutdown).
public final class StopSignal: @unchecked Sendable {
    private let flag = LockedValue(false)
    public init() {}
    public var isStopped: Bool { flag.withLock { $0 } }
    public func stop() { flag.withLock { $0 = true } }
}
