/// Arithmetic on `monotonicNanoseconds()` readings that cannot trap. Two readings taken one
/// after the other may straddle a deadline (the loop checked `now < wakeAt`, the next reading is
/// past it), and an unsigned `wakeAt - now` then overflows, which Swift turns into SIGILL; under
/// load, with several workers sleeping, that happened within minutes. Every difference of clock
/// readings, and every deadline computed from a duration, goes through here.
public enum ClockArithmetic {
    /// Nanoseconds from `now` until `deadline`; 0 once it has passed.
    public static func remaining(until deadline: UInt64, now: UInt64) -> UInt64 {
        deadline > now ? deadline - now : 0
    }

    /// Nanoseconds from `start` to `now`; 0 if `start` is later (readings from another thread).
    public static func elapsed(since start: UInt64, now: UInt64) -> UInt64 {
        now > start ? now - start : 0
    }

    /// `now` plus `milliseconds` (a negative duration is none), saturating at the clock's end.
    public static func deadline(afterMilliseconds milliseconds: Int, now: UInt64) -> UInt64 {
        let (nanoseconds, overflow) = UInt64(max(0, milliseconds)).multipliedReportingOverflow(by: 1_000_000)
        if overflow { return .max }
        let (sum, carry) = now.addingReportingOverflow(nanoseconds)
        return carry ? .max : sum
    }

    /// How long one sleep step of a wait until `wakeAt` lasts, in microseconds: at most
    /// `maximumMicroseconds`, at least 1 (so a wait that has just ended still yields).
    public static func sleepStep(until wakeAt: UInt64, now: UInt64, maximumMicroseconds: UInt32 = 20_000) -> UInt32 {
        UInt32(min(UInt64(maximumMicroseconds), remaining(until: wakeAt, now: now) / 1000 + 1))
    }
}
