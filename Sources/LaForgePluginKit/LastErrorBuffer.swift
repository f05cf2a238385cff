import LaForgeABI
import PluginABI
import Synchronization

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
public final class LastErrorBuffer: Sendable {
    /// thread id → address of a malloc'd NUL-terminated copy (addresses: raw pointers are not
    /// Sendable). Only `record` and `deinit` free one, never while its thread can still read it.
    private let messages = Mutex<[UInt: UInt]>([:])

    /// The longest message kept, in bytes: a server's answer quoted in a message stays readable
    /// without letting one failure hold megabytes.
    public static let capacity = 2048

    /// "": what `last_error` returns when there is no message.
    nonisolated(unsafe) static let none = staticCString("")

    public init() {}

    deinit {
        messages.withLock { for address in $0.values { free(UnsafeMutableRawPointer(bitPattern: address)) } }
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
        let old = messages.withLock { $0.updateValue(UInt(bitPattern: copy), forKey: thread) }
        if let old { free(UnsafeMutableRawPointer(bitPattern: old)) }
    }

    /// What `last_error` returns: this thread's most recent message, or "" (never NULL).
    public var current: UnsafePointer<CChar> {
        let thread = UInt(pthread_self())
        let address = messages.withLock { $0[thread] }
        return address.flatMap { UnsafePointer(bitPattern: $0) } ?? Self.none
    }
}
