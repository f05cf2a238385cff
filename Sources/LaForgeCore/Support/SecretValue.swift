import CSodium
import Foundation

/// Secret bytes held outside Swift's copy-on-write storage so they can be zeroed: locked in
/// memory where the OS allows (sodium_mlock) and wiped on release. Its description never shows
/// the value.
public final class SecretValue: @unchecked Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    // @unchecked: the bytes are written once in init and only read afterwards.
    private let storage: UnsafeMutableRawBufferPointer

    public init<Bytes: Collection>(bytes: Bytes) where Bytes.Element == UInt8 {
        storage = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bytes.count, 1), alignment: 16)
        _ = sodium_mlock(storage.baseAddress!, storage.count)
        storage.copyBytes(from: bytes)
        count = bytes.count
    }

    /// `count` bytes written by `initialize` straight into the locked storage (for values built
    /// from several pieces, such as a plugin configuration that holds resolved secrets, so no
    /// intermediate copy exists).
    public init(count: Int, initializingWith initialize: (UnsafeMutableRawBufferPointer) -> Void) {
        storage = UnsafeMutableRawBufferPointer.allocate(byteCount: max(count, 1), alignment: 16)
        _ = sodium_mlock(storage.baseAddress!, storage.count)
        storage.initializeMemory(as: UInt8.self, repeating: 0)
        self.count = count
        initialize(UnsafeMutableRawBufferPointer(rebasing: storage[0..<count]))
    }

    /// `count` random bytes (libsodium's CSPRNG) written straight into the locked storage.
    public static func random(count: Int) -> SecretValue {
        let value = SecretValue(bytes: repeatElement(UInt8(0), count: count))
        randombytes_buf(value.storage.baseAddress!, count)
        return value
    }

    /// Everything `fileDescriptor` holds until end of file, read straight into locked storage (a
    /// buffer outgrown on the way is zeroed before it is freed): for secrets piped on standard input.
    public static func readingAll(from fileDescriptor: Int32) throws(ReadError) -> SecretValue {
        var capacity = 4096
        var buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: capacity, alignment: 16)
        _ = sodium_mlock(buffer.baseAddress!, capacity)
        func release(_ old: UnsafeMutableRawBufferPointer) {
            _ = sodium_munlock(old.baseAddress!, old.count)
            sodium_memzero(old.baseAddress, old.count)
            old.deallocate()
        }
        defer { release(buffer) }
        var count = 0
        while true {
            if count == capacity {
                let grown = UnsafeMutableRawBufferPointer.allocate(byteCount: capacity * 2, alignment: 16)
                _ = sodium_mlock(grown.baseAddress!, grown.count)
                grown.copyMemory(from: UnsafeRawBufferPointer(buffer))
                release(buffer)
                buffer = grown
                capacity *= 2
            }
            let got = read(fileDescriptor, buffer.baseAddress! + count, capacity - count)
            if got == 0 { break }
            if got < 0 {
                if errno == EINTR { continue }
                throw ReadError(code: errno)
            }
            count += got
        }
        return SecretValue(bytes: UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
    }

    /// Why `readingAll(from:)` failed (errno).
    public struct ReadError: Error, CustomStringConvertible {
        public let code: Int32
        public var description: String { String(cString: strerror(code)) }
    }

    /// Writes every byte to `fileDescriptor` (standard output for `secrets get`) with no copy in
    /// between; false when the descriptor refused them.
    public func write(to fileDescriptor: Int32) -> Bool {
        withUnsafeBytes { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = Foundation.write(fileDescriptor, bytes.baseAddress! + offset, bytes.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return false
                }
                offset += written
            }
            return true
        }
    }

    /// The value in standard base64, itself a `SecretValue`.
    public func base64Encoded() -> SecretValue {
        let length = sodium_base64_encoded_len(count, sodium_base64_VARIANT_ORIGINAL)
        return withUnsafeBytes { bytes in
            SecretValue(count: length - 1) { output in
                // libsodium writes a NUL after the text: give it room in a locked scratch copy.
                let scratch = SecretValue(count: length) { scratch in
                    _ = sodium_bin2base64(
                        scratch.baseAddress!.assumingMemoryBound(to: CChar.self), length,
                        bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), count, sodium_base64_VARIANT_ORIGINAL)
                }
                scratch.withUnsafeBytes { output.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[0..<(length - 1)])) }
            }
        }
    }

    public convenience init(string: String) {
        self.init(bytes: Array(string.utf8))
    }

    public let count: Int

    deinit {
        // sodium_munlock zeroes before unlocking.
        _ = sodium_munlock(storage.baseAddress!, storage.count)
        sodium_memzero(storage.baseAddress, storage.count)
        storage.deallocate()
    }

    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(start: storage.baseAddress, count: count))
    }

    /// The value as UTF-8 text, for the places that need a String (configuration values handed to
    /// a plugin). Prefer `withUnsafeBytes`: a String cannot be wiped.
    public func unsafeStringValue() -> String {
        withUnsafeBytes { String(decoding: $0, as: UTF8.self) }
    }

    public var description: String { "<redacted>" }
    public var debugDescription: String { "SecretValue(<redacted>, \(count) bytes)" }
}
