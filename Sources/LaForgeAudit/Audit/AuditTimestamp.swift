import Foundation

/// An instant with microsecond precision, always rendered in RFC 3339 UTC with six fractional
/// digits (`2026-11-27T04:16:22.123456Z`), so the canonical bytes of an event never depend on
/// the emitter's time zone or clock formatting.
public struct AuditTimestamp: Sendable, Equatable, Comparable, CustomStringConvertible {
    /// Microseconds since 1970-01-01T00:00:00Z.
    public var microseconds: Int64

    public init(microseconds: Int64) { self.microseconds = microseconds }

    public static func now() -> AuditTimestamp {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return AuditTimestamp(microseconds: Int64(time.tv_sec) * 1_000_000 + Int64(time.tv_nsec) / 1000)
    }

    public static func < (lhs: AuditTimestamp, rhs: AuditTimestamp) -> Bool { lhs.microseconds < rhs.microseconds }

    public var description: String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(27)
        writeRFC3339(into: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends `YYYY-MM-DDTHH:MM:SS.ffffffZ` (on the ingest hot path: no formatter, no String).
    public func writeRFC3339(into out: inout [UInt8]) {
        let seconds = microseconds >= 0 ? microseconds / 1_000_000 : (microseconds - 999_999) / 1_000_000
        let fraction = Int(microseconds - seconds * 1_000_000)
        // Civil date from days since the epoch (Howard Hinnant's days_from_civil inverse).
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = Int(seconds - days * 86_400)
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = Int(dayOfYear - (153 * monthIndex + 2) / 5 + 1)
        let month = Int(monthIndex < 10 ? monthIndex + 3 : monthIndex - 9)
        let year = Int(yearOfEra + era * 400 + (month <= 2 ? 1 : 0))
        func digits(_ value: Int, _ count: Int) {
            var divisor = 1
            for _ in 1..<count { divisor *= 10 }
            var rest = value
            while divisor > 0 {
                out.append(UInt8(48 + rest / divisor))
                rest %= divisor
                divisor /= 10
            }
        }
        digits(year, 4)
        out.append(45)
        digits(month, 2)
        out.append(45)
        digits(day, 2)
        out.append(84)
        digits(secondOfDay / 3600, 2)
        out.append(58)
        digits(secondOfDay / 60 % 60, 2)
        out.append(58)
        digits(secondOfDay % 60, 2)
        out.append(46)
        digits(fraction, 6)
        out.append(90)
    }

    /// Whether `text` names second 60 (`…T23:59:60Z`): RFC 3339 allows a leap second, but an
    /// instant counted in microseconds since the epoch (POSIX time) has no room for it, and
    /// storing the second before would change what the emitter said; `init(rfc3339:)` refuses it.
    public static func isLeapSecond(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        return bytes.count >= 20 && bytes[16] == 58 && bytes[17] == UInt8(ascii: "6") && bytes[18] == UInt8(ascii: "0")
    }

    /// Parses RFC 3339 (`Z` or a numeric offset, 0–9 fractional digits, `T` or `t`), normalizing
    /// to UTC. Fractions beyond microseconds must be zero: silently rounding would change what
    /// the emitter said. A leap second (second 60) is refused for the same reason.
    public init?(rfc3339 text: String) {
        let bytes = Array(text.utf8)
        func number(_ start: Int, _ count: Int) -> Int? {
            guard start + count <= bytes.count else { return nil }
            var value = 0
            for byte in bytes[start..<start + count] {
                guard byte >= 48, byte <= 57 else { return nil }
                value = value * 10 + Int(byte - 48)
            }
            return value
        }
        guard bytes.count >= 20, let year = number(0, 4), bytes[4] == 45, let month = number(5, 2), bytes[7] == 45,
              let day = number(8, 2), bytes[10] == 84 || bytes[10] == 116, let hour = number(11, 2), bytes[13] == 58,
              let minute = number(14, 2), bytes[16] == 58, let second = number(17, 2),
              (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 60
        else { return nil }
        var index = 19
        var micros = 0
        if index < bytes.count, bytes[index] == 46 {
            index += 1
            var digits = 0
            while index < bytes.count, bytes[index] >= 48, bytes[index] <= 57 {
                let digit = Int(bytes[index] - 48)
                if digits < 6 { micros = micros * 10 + digit } else if digit != 0 { return nil }
                digits += 1
                index += 1
            }
            guard digits > 0 else { return nil }
            if digits < 6 {
                for _ in digits..<6 { micros *= 10 }
            }
        }
        guard index < bytes.count else { return nil }
        var offsetSeconds = 0
        if bytes[index] == 90 || bytes[index] == 122 {
            index += 1
        } else if bytes[index] == 43 || bytes[index] == 45, let offsetHours = number(index + 1, 2),
                  bytes.count > index + 3, bytes[index + 3] == 58, let offsetMinutes = number(index + 4, 2),
                  offsetHours < 24, offsetMinutes < 60 {
            offsetSeconds = (offsetHours * 3600 + offsetMinutes * 60) * (bytes[index] == 43 ? 1 : -1)
            index += 6
        } else {
            return nil
        }
        guard index == bytes.count else { return nil }
        var parts = tm()
        parts.tm_year = Int32(year - 1900)
        parts.tm_mon = Int32(month - 1)
        parts.tm_mday = Int32(day)
        parts.tm_hour = Int32(hour)
        parts.tm_min = Int32(minute)
        parts.tm_sec = Int32(second)
        let epoch = timegm(&parts)
        // timegm normalizes Feb 30 into March: refuse dates that do not exist.
        guard parts.tm_mday == Int32(day), parts.tm_mon == Int32(month - 1) else { return nil }
        microseconds = (Int64(epoch) - Int64(offsetSeconds)) * 1_000_000 + Int64(micros)
    }
}
