import LaForgeABI
import PluginABI

#if canImport(Glibc)
    import Glibc
#endif

/// An instance's `last_error` storage: one message per calling thread, each kept until that
/// thread's next failure on the instance (or the instance's destruction).
///
/// Why per thread, for SERIAL and CONCURRENT vtables alike (the rule of laforge_plugin.h and
/// docs/ABI.md): the host reads `last_error` on the thread that made the failing call, right
/// after it, so a per-thread message is always the caller's own failure, and a concurrent
/// failure on another thread can neither replace it nor tear it while the host copies it.
public final class LastErrorBuffer: @unchecked Sendable {
    // @unchecked: `addresses` is only touched under `lock`. A pthread mutex rather than
    // Synchronization.Mutex: ThreadSanitizer on Linux sees pthread locks but not Mutex's futex,
    // and the CI sanitizer suites call CONCURRENT plugins from many threads.
    /// thread id → address of a malloc'd NUL-terminated copy. Only `record` and `deinit` free
    /// one, never while its thread can still read it.
    private var addresses: [UInt: UInt] = [:]
    private let lock: UnsafeMutablePointer<pthread_mutex_t> = {
        let lock = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
        pthread_mutex_init(lock, nil)
        return lock
    }()

    private func withLock<R>(_ body: (inout [UInt: UInt]) -> R) -> R {
        pthread_mutex_lock(lock)
        defer { pthread_mutex_unlock(lock) }
        return body(&addresses)
    }

    /// The longest message kept, in bytes: a server's answer quoted in a message stays readable
    /// without letting one failure hold megabytes.
    public static let capacity = 2048

    /// "": what `last_error` returns when there is no message.
    nonisolated(unsafe) static let none = staticCString("")

    public init() {}

    deinit {
        for address in addresses.values { free(UnsafeMutableRawPointer(bitPattern: address)) }
        pthread_mutex_destroy(lock)
        lock.deallocate()
    }

    /// Makes `message` this thread's `last_error`, cut to `capacity` bytes at a character
    /// boundary (never half a UTF-8 sequence).
    public func record(_ message: String) {
        var bytes = Array(message.utf8)
        if bytes.count >= Self.capacity {
            var cut = Self.capacity - 1
            while cut > 0 && bytes[cut] & 0xC0 == 0x80 { cut -= 1 }
            bytes.removeSubrange(cut...)
        }
        let copy = malloc(bytes.count + 1)!.assumingMemoryBound(to: UInt8.self)
        bytes.withUnsafeBufferPointer { if let base = $0.baseAddress { copy.update(from: base, count: $0.count) } }
        copy[bytes.count] = 0
        let thread = UInt(pthread_self())
        let old = withLock { $0.updateValue(UInt(bitPattern: copy), forKey: thread) }
        if let old { free(UnsafeMutableRawPointer(bitPattern: old)) }
    }

    /// What `last_error` returns: this thread's most recent message, or "" (never NULL).
    public var current: UnsafePointer<CChar> {
        let thread = UInt(pthread_self())
        let address = withLock { $0[thread] }
        return address.flatMap { UnsafePointer(bitPattern: $0) } ?? Self.none
    }
}
