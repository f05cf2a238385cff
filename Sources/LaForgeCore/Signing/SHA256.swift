import COpenSSL
import Foundation

/// SHA-256 through OpenSSL's libcrypto, which uses the CPU's SHA extensions (SHA-NI) where
/// present. The audit chain hashes every entry in sequence, so this speed caps ingest: on the
/// reference machine libsodium's portable SHA-256 does ~0.3M msg/s at 600 B, this ~1.9M msg/s
/// (DESIGN.md §8).
///
/// It calls the low-level `SHA256_Init/Update/Final` with the context on the stack: OpenSSL 3's
/// `EVP_Digest` allocates a context per call (~1.2M msg/s at 600 B, ~2.4M/s for a 65-byte
/// Merkle node against ~6M/s here) and its one-shot `SHA256()` also fetches the algorithm per
/// call (~0.8M msg/s). The low-level API bypasses providers, so an OpenSSL FIPS configuration
/// does not apply to these hashes.
public enum SHA256 {
    public static let digestCount = 32

    public static func hash<Bytes: ContiguousBytes>(_ bytes: Bytes) -> [UInt8] {
        bytes.withUnsafeBytes { input in
            digest { context in
                _ = SHA256_Update(&context, input.baseAddress, input.count)
            }
        }
    }

    /// The RFC 6962 §2.1 leaf hash, SHA-256(0x00 ‖ entry): the audit chain's entry hash.
    public static func leafHash<Bytes: ContiguousBytes>(_ entry: Bytes) -> [UInt8] {
        entry.withUnsafeBytes { input in
            digest { context in
                var prefix: UInt8 = 0x00
                _ = SHA256_Update(&context, &prefix, 1)
                _ = SHA256_Update(&context, input.baseAddress, input.count)
            }
        }
    }

    /// `leafHash` over borrowed bytes: the verifier's per-entry hash. Non-generic, so callers in
    /// other modules do not go through an unspecialized `ContiguousBytes` witness per call.
    public static func leafHash(_ entry: UnsafeRawBufferPointer) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: digestCount) { buffer, count in
            leafHash(entry, into: UnsafeMutableRawPointer(buffer.baseAddress!))
            count = digestCount
        }
    }

    public static func leafHash(_ entry: [UInt8]) -> [UInt8] {
        entry.withUnsafeBytes { leafHash($0) }
    }

    /// The leaf hash of `entry` into `output` (32 bytes), with the context on the stack and no
    /// allocation.
    @inline(__always)
    package static func leafHash(_ entry: UnsafeRawBufferPointer, into output: UnsafeMutableRawPointer) {
        var context = SHA256_CTX()
        SHA256_Init(&context)
        var prefix: UInt8 = 0x00
        _ = SHA256_Update(&context, &prefix, 1)
        _ = SHA256_Update(&context, entry.baseAddress, entry.count)
        SHA256_Final(output.assumingMemoryBound(to: UInt8.self), &context)
    }

    /// The RFC 6962 §2.1 interior node hash, SHA-256(0x01 ‖ left ‖ right).
    public static func nodeHash<Left: ContiguousBytes, Right: ContiguousBytes>(_ left: Left, _ right: Right) -> [UInt8] {
        left.withUnsafeBytes { left in
            right.withUnsafeBytes { right in
                digest { context in
                    var prefix: UInt8 = 0x01
                    _ = SHA256_Update(&context, &prefix, 1)
                    _ = SHA256_Update(&context, left.baseAddress, left.count)
                    _ = SHA256_Update(&context, right.baseAddress, right.count)
                }
            }
        }
    }

    /// Hashes a file in 1 MiB reads, so signing a large library does not load it whole.
    public static func hash(fileAt path: String) throws -> [UInt8] {
        guard let file = FileHandle(forReadingAtPath: path) else {
            throw CocoaError(.fileReadNoSuchFile, userInfo: [NSFilePathErrorKey: path])
        }
        defer { try? file.close() }
        var context = SHA256_CTX()
        SHA256_Init(&context)
        while let chunk = try file.read(upToCount: 1 << 20), !chunk.isEmpty {
            chunk.withUnsafeBytes { bytes in
                _ = SHA256_Update(&context, bytes.baseAddress, bytes.count)
            }
        }
        return [UInt8](unsafeUninitializedCapacity: digestCount) { buffer, count in
            SHA256_Final(buffer.baseAddress, &context)
            count = digestCount
        }
    }

    /// Runs `update` on a fresh context and returns the digest, written straight into the result.
    @inline(__always)
    private static func digest(_ update: (inout SHA256_CTX) -> Void) -> [UInt8] {
        var context = SHA256_CTX()
        SHA256_Init(&context)
        update(&context)
        return [UInt8](unsafeUninitializedCapacity: digestCount) { buffer, count in
            SHA256_Final(buffer.baseAddress, &context)
            count = digestCount
        }
    }

    /// The node hash of two 32-byte hashes into `output` (32 bytes), without allocating: the
    /// Merkle tree's inner loop.
    @inline(__always)
    static func nodeHash(_ left: UnsafeRawPointer, _ right: UnsafeRawPointer, into output: UnsafeMutableRawPointer) {
        var context = SHA256_CTX()
        SHA256_Init(&context)
        var prefix: UInt8 = 0x01
        _ = SHA256_Update(&context, &prefix, 1)
        _ = SHA256_Update(&context, left, digestCount)
        _ = SHA256_Update(&context, right, digestCount)
        SHA256_Final(output.assumingMemoryBound(to: UInt8.self), &context)
    }
}
extension Array where Element == UInt8 {
    public var hexString: String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(count * 2)
        for byte in self {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    public init?(hexString: String) {
        let chars = Array(hexString.utf8)
        guard chars.count % 2 == 0 else { return nil }
        func value(_ c: UInt8) -> UInt8? {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
            default: return nil
            }
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(chars.count / 2)
        var index = 0
        while index < chars.count {
            guard let high = value(chars[index]), let low = value(chars[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        self = bytes
    }
}
