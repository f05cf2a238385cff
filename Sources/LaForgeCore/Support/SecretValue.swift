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

    /// `count` random bytes (libsodium's CSPRNG) written straight into the locked storage.
    public static func random(count: Int) -> SecretValue {
        let value = SecretValue(bytes: repeatElement(UInt8(0), count: count))
        randombytes_buf(value.storage.baseAddress!, count)
        return value
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
