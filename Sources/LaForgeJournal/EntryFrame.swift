/// The layout of one entry frame in a segment file:
///
///     magic "LFJ1" (4) | payload length u32 LE (4) | seq u64 LE (8) | hash (32) | prev_hash (32) | payload
///
/// `hash == SHA-256(0x00 ‖ payload)` (RFC 6962 leaf hash); `prev_hash` is the previous frame's
/// `hash` (32 zero bytes for seq 0). The header repeats what the payload already commits to so
/// that recovery, chain walks and Merkle-tree rebuilds need not parse the canonical entry.
package enum EntryFrame {
    static let magic: UInt32 = 0x314A_464C  // "LFJ1" read as a little-endian u32
    static let headerSize = 80
    /// Canonical entries are events of a few KiB; the bound only rejects a garbage length field
    /// before it sends a reader past the end of the file.
    static let maxPayload = 16 << 20

    package struct Header {
        package var payloadCount: Int
        package var seq: UInt64
        package var hash: ChainHash
        package var prevHash: ChainHash

        var frameCount: Int { EntryFrame.headerSize + payloadCount }
    }

    /// Parses the header at `pointer` (at least `headerSize` readable bytes); nil on a bad magic
    /// or a length beyond `maxPayload`.
    static func header(at pointer: UnsafeRawPointer) -> Header? {
        guard UInt32(littleEndian: pointer.loadUnaligned(as: UInt32.self)) == magic else { return nil }
        let count = Int(UInt32(littleEndian: pointer.loadUnaligned(fromByteOffset: 4, as: UInt32.self)))
        guard count <= maxPayload else { return nil }
        return Header(
            payloadCount: count,
            seq: UInt64(littleEndian: pointer.loadUnaligned(fromByteOffset: 8, as: UInt64.self)),
            hash: ChainHash(pointer + 16),
            prevHash: ChainHash(pointer + 48))
    }

    /// Appends the frame of `body` at `seq` to `buffer`: the linker writes the entry straight
    /// after the header and the hash is taken in place (no per-entry buffer). Returns the
    /// entry's hash, or nil (and appends nothing) when the entry is larger than `maxPayload`.
    static func appendLinked(
        _ body: [UInt8], seq: UInt64, prevHash: ChainHash, linker: Journal.Linker, to buffer: inout [UInt8]
    ) -> ChainHash? {
        let start = buffer.count
        buffer.append(contentsOf: repeatElement(0, count: headerSize))
        withUnsafeBytes(of: prevHash) { linker(body, seq, $0, &buffer) }
        let payloadCount = buffer.count - start - headerSize
        guard payloadCount <= maxPayload else {
            buffer.removeLast(buffer.count - start)
            return nil
        }
        return buffer.withUnsafeMutableBytes { bytes in
            let frame = bytes.baseAddress! + start
            let hash = ChainHash.leafHash(of: UnsafeRawBufferPointer(start: frame + headerSize, count: payloadCount))
            writeHeader(at: frame, payloadCount: payloadCount, seq: seq, hash: hash, prevHash: prevHash)
            return hash
        }
    }

    /// Fills the header of a frame whose payload already follows it at `frame + headerSize`.
    static func writeHeader(
        at frame: UnsafeMutableRawPointer, payloadCount: Int, seq: UInt64, hash: ChainHash, prevHash: ChainHash
    ) {
        frame.storeBytes(of: magic.littleEndian, toByteOffset: 0, as: UInt32.self)
        frame.storeBytes(of: UInt32(payloadCount).littleEndian, toByteOffset: 4, as: UInt32.self)
        frame.storeBytes(of: seq.littleEndian, toByteOffset: 8, as: UInt64.self)
        withUnsafeBytes(of: hash) { (frame + 16).copyMemory(from: $0.baseAddress!, byteCount: 32) }
        withUnsafeBytes(of: prevHash) { (frame + 48).copyMemory(from: $0.baseAddress!, byteCount: 32) }
    }
}

/// The layout of one frame of `checkpoints.log`:
///
///     magic "LFC1" (4) | payload length u32 LE (4) | tree size u64 LE (8) | payload | SHA-256(size ‖ payload) (32)
///
/// The trailing digest detects a torn write (a checkpoint is signed by the caller; the digest is
/// not a security property, only a completeness check).
enum CheckpointFrame {
    static let magic: UInt32 = 0x3143_464C  // "LFC1"
    static let headerSize = 16
    static let trailerSize = 32
    static let maxPayload = 16 << 20

    static func frameCount(payloadCount: Int) -> Int { headerSize + payloadCount + trailerSize }

    /// The payload length of the frame at `pointer` (`headerSize` readable bytes), nil when the
    /// magic or length is bad.
    static func payloadCount(at pointer: UnsafeRawPointer) -> Int? {
        guard UInt32(littleEndian: pointer.loadUnaligned(as: UInt32.self)) == magic else { return nil }
        let count = Int(UInt32(littleEndian: pointer.loadUnaligned(fromByteOffset: 4, as: UInt32.self)))
        return count <= maxPayload ? count : nil
    }

    /// Checks the digest of a whole frame (`frameCount` bytes at `pointer`) and decodes it.
    static func decode(_ frame: UnsafeRawBufferPointer) -> StoredCheckpoint? {
        let count = frame.count - headerSize - trailerSize
        let sizeBytes = UnsafeRawBufferPointer(rebasing: frame[8..<16])
        let payload = UnsafeRawBufferPointer(rebasing: frame[headerSize..<(headerSize + count)])
        let digest = ChainHash.sha256(sizeBytes, payload)
        guard digest == ChainHash(frame.baseAddress! + headerSize + count) else { return nil }
        let size = UInt64(littleEndian: frame.baseAddress!.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
        return StoredCheckpoint(size: size, payload: [UInt8](payload))
    }

    static func encode(size: UInt64, payload: [UInt8]) -> [UInt8] {
        var frame: [UInt8] = []
        frame.reserveCapacity(frameCount(payloadCount: payload.count))
        withUnsafeBytes(of: magic.littleEndian) { frame.append(contentsOf: $0) }
        withUnsafeBytes(of: UInt32(payload.count).littleEndian) { frame.append(contentsOf: $0) }
        withUnsafeBytes(of: size.littleEndian) { frame.append(contentsOf: $0) }
        frame.append(contentsOf: payload)
        let digest = withUnsafeBytes(of: size.littleEndian) { sizeBytes in
            payload.withUnsafeBytes { ChainHash.sha256(sizeBytes, $0) }
        }
        digest.append(to: &frame)
        return frame
    }
}
