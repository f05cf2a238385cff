import Glibc

/// CLOCK_MONOTONIC in nanoseconds: deadlines and timeouts never jump with the wall clock.
public func monotonicNanoseconds() -> UInt64 {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
}
