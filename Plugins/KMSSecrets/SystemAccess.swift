import CSodium

#if canImport(Glibc)
    import Glibc
#endif

/// The process environment, files and clocks, read the way every credential source needs them.
/// The environment is read through one value so tests of a source can hand in their own.
struct Environment: Sendable {
    var values: [String: String]

    /// The process environment at the time of the call.
    static func process() -> Environment {
        var values: [String: String] = [:]
        var pointer = environ
        while let entry = pointer.pointee {
            let text = String(cString: entry)
            if let equals = text.firstIndex(of: "=") {
                values[String(text[..<equals])] = String(text[text.index(after: equals)...])
            }
            pointer += 1
        }
        return Environment(values: values)
    }

    /// The variable, or nil when it is unset or empty (the AWS SDKs treat both alike).
    subscript(name: String) -> String? {
        guard let value = values[name], !value.isEmpty else { return nil }
        return value
    }
}

enum FileAccess {
    /// The file's bytes (at most `limit`); the message names the file, never its content.
    static func read(_ path: String, limit: Int = 1 << 20) throws(KMSError) -> [UInt8] {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw KMSError(.invalidConfig, "cannot read \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16384)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw KMSError(.invalidConfig, "cannot read \(path): \(String(cString: strerror(errno)))")
            }
            if count == 0 { break }
            bytes += chunk[0..<count]
            guard bytes.count <= limit else { throw KMSError(.invalidConfig, "\(path) is larger than \(limit) bytes") }
        }
        sodium_memzero(&chunk, chunk.count)
        return bytes
    }

    static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    /// `~/…` expanded with $HOME.
    static func expandHome(_ path: String, _ environment: Environment) -> String {
        guard path.hasPrefix("~/"), let home = environment["HOME"] else { return path }
        return home + path.dropFirst(1)
    }
}

enum Clock {
    /// Seconds since the epoch (wall clock: expiry times from the providers are wall-clock).
    static func now() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
    }

    /// Milliseconds on the monotonic clock (deadlines: the wall clock may jump).
    static func monotonicMilliseconds() -> Int {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return spec.tv_sec * 1000 + spec.tv_nsec / 1_000_000
    }

    static func sleep(milliseconds: Int) {
        var request = timespec(tv_sec: milliseconds / 1000, tv_nsec: (milliseconds % 1000) * 1_000_000)
        var remaining = timespec()
        while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
    }

    /// An RFC 3339 / ISO 8601 UTC time (`2026-11-27T06:00:00Z`, fractions and `+00:00` allowed)
    /// as seconds since the epoch.
    static func parseISO8601(_ text: String) -> Double? {
        let bytes = Array(text.utf8)
        func number(_ from: Int, _ count: Int) -> Int? {
            guard from + count <= bytes.count else { return nil }
            var value = 0
            for byte in bytes[from..<from + count] {
                guard byte >= 48, byte <= 57 else { return nil }
                value = value * 10 + Int(byte - 48)
            }
            return value
        }
        guard bytes.count >= 19, let year = number(0, 4), let month = number(5, 2), let day = number(8, 2),
            let hour = number(11, 2), let minute = number(14, 2), let second = number(17, 2)
        else { return nil }
        var index = 19
        var fraction = 0.0
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            var scale = 0.1
            while index < bytes.count, bytes[index] >= 48, bytes[index] <= 57 {
                fraction += Double(bytes[index] - 48) * scale
                scale /= 10
                index += 1
            }
        }
        var offset = 0
        let zone = String(decoding: bytes[index...], as: UTF8.self)
        if zone == "Z" || zone == "z" || zone.isEmpty {
            offset = 0
        } else if zone.count == 6, let hours = number(index + 1, 2), let minutes = number(index + 4, 2) {
            offset = (hours * 60 + minutes) * 60 * (zone.hasPrefix("-") ? -1 : 1)
        } else {
            return nil
        }
        var parts = tm()
        parts.tm_year = Int32(year - 1900)
        parts.tm_mon = Int32(month - 1)
        parts.tm_mday = Int32(day)
        parts.tm_hour = Int32(hour)
        parts.tm_min = Int32(minute)
        parts.tm_sec = Int32(second)
        return Double(timegm(&parts) - offset) + fraction
    }
}

/// Random numbers from libsodium (CSPRNG), for retry jitter.
enum Jitter {
    static func milliseconds(upTo bound: Int) -> Int {
        guard bound > 0 else { return 0 }
        return Int(randombytes_uniform(UInt32(min(bound, Int(UInt32.max)))))
    }
}
