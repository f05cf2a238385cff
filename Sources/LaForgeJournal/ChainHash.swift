import LaForgeCore

/// A SHA-256 digest held inline (four words), so scanning a million frames compares and carries
/// hashes without allocating an array per frame.
package struct ChainHash: Equatable, Sendable {
    var w0: UInt64, w1: UInt64, w2: UInt64, w3: UInt64

    /// The `prev_hash` of seq 0.
    package static let zero = ChainHash(w0: 0, w1: 0, w2: 0, w3: 0)

    package init(w0: UInt64, w1: UInt64, w2: UInt64, w3: UInt64) {
        (self.w0, self.w1, self.w2, self.w3) = (w0, w1, w2, w3)
    }

    /// Reads 32 bytes at `pointer` (any alignment).
    init(_ pointer: UnsafeRawPointer) {
        w0 = pointer.loadUnaligned(as: UInt64.self)
        w1 = pointer.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
        w2 = pointer.loadUnaligned(fromByteOffset: 16, as: UInt64.self)
        w3 = pointer.loadUnaligned(fromByteOffset: 24, as: UInt64.self)
    }

    package init(_ bytes: [UInt8]) {
        precondition(bytes.count == 32, "a chain hash is 32 bytes")
        self = bytes.withUnsafeBytes { ChainHash($0.baseAddress!) }
    }

    package var bytes: [UInt8] {
        [UInt8](unsafeUninitializedCapacity: 32) { buffer, count in
            let raw = UnsafeMutableRawPointer(buffer.baseAddress!)
            raw.storeBytes(of: w0, as: UInt64.self)
            raw.storeBytes(of: w1, toByteOffset: 8, as: UInt64.self)
            raw.storeBytes(of: w2, toByteOffset: 16, as: UInt64.self)
            raw.storeBytes(of: w3, toByteOffset: 24, as: UInt64.self)
            count = 32
        }
    }

    func append(to buffer: inout [UInt8]) {
        withUnsafeBytes(of: self) { buffer.append(contentsOf: $0) }
    }

    /// The RFC 6962 leaf hash `SHA-256(0x00 ‖ payload)`.
    package static func leafHash(of payload: UnsafeRawBufferPointer) -> ChainHash {
        var hash = ChainHash.zero
        withUnsafeMutableBytes(of: &hash) { SHA256.leafHash(payload, into: $0.baseAddress!) }
        return hash
    }

    /// Plain SHA-256 over `prefix ‖ body` (the checkpoint frame's torn-write check).
    static func sha256(_ prefix: UnsafeRawBufferPointer, _ body: UnsafeRawBufferPointer) -> ChainHash {
        var bytes = [UInt8](prefix)
        bytes.append(contentsOf: body)
        return ChainHash(SHA256.hash(bytes))
    }
}
