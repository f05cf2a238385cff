import Foundation
import Testing
@testable import LaForgeTestSupport

@testable import LaForgeAudit
@testable import LaForgeCore
@testable import LaForgeJournal
@testable import LaForgePlugins

/// Differences of monotonic clock readings never trap, whatever the readings: a worker's second
/// reading can be past the deadline its first was before (SIGILL under load, #17).
@Suite struct ClockArithmeticTests {
    /// A reading near the interesting edges (0, equal, straddling, the top of the range) or anywhere.
    static func reading(_ generator: inout SystemRandomNumberGenerator, near other: UInt64) -> UInt64 {
        switch UInt64.random(in: 0..<6, using: &generator) {
        case 0: return other
        case 1: return other &+ UInt64.random(in: 0...2_000_000, using: &generator)
        case 2: return other &- UInt64.random(in: 0...2_000_000, using: &generator)
        case 3: return UInt64.max - UInt64.random(in: 0...1000, using: &generator)
        case 4: return UInt64.random(in: 0...1000, using: &generator)
        default: return UInt64.random(in: 0...UInt64.max, using: &generator)
        }
    }

    @Test func randomReadingsNeverTrapAndStayInBounds() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<50_000 {
            let a = UInt64.random(in: 0...UInt64.max, using: &generator)
            let b = Self.reading(&generator, near: a)
            let exact = Int128(a) - Int128(b)
            #expect(Int128(ClockArithmetic.remaining(until: a, now: b)) == max(0, exact))
            #expect(Int128(ClockArithmetic.elapsed(since: b, now: a)) == max(0, exact))
            let step = ClockArithmetic.sleepStep(until: a, now: b)
            #expect(step >= 1 && step <= 20_000)
            if b >= a { #expect(step == 1) }
            let milliseconds = Int.random(in: Int.min...Int.max, using: &generator) >> Int.random(in: 0..<64, using: &generator)
            let deadline = ClockArithmetic.deadline(afterMilliseconds: milliseconds, now: b)
            let wanted = Int128(b) + Int128(max(0, milliseconds)) * 1_000_000
            #expect(Int128(deadline) == min(wanted, Int128(UInt64.max)))
        }
    }
}
