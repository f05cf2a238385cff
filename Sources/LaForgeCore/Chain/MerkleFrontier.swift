/// The right border of an RFC 6962 tree (a.k.a. compact range): the roots of its complete
/// subtrees, largest first, one per set bit of `size`. It is all a checkpointer needs to extend
/// the tree and compute the next root, so it is persisted beside each checkpoint and old leaves
/// are never read again. O(log n) memory; each append costs one leaf copy plus one node hash
/// per trailing 1-bit of the old size (amortized one).
public struct MerkleFrontier: Sendable, Equatable {
    /// The checkpoint note extension line that carries a serialized frontier (base64), so a
    /// verifier or the next checkpointer continues the tree without re-reading every leaf.
    public static let checkpointExtensionPrefix = "laforge-frontier "

    /// Number of leaves appended so far.
    public private(set) var size: UInt64
    /// popcount(size) hashes of 32 bytes, concatenated, leftmost (largest) subtree first.
    public private(set) var borderHashes: [UInt8]

    /// The frontier of the empty tree.
    public init() {
        size = 0
        borderHashes = []
        borderHashes.reserveCapacity(MerkleHashStack.capacity)
    }

    /// Appends one leaf hash (`SHA256.leafHash(entry)`, 32 bytes; anything else traps).
    public mutating func append(_ leafHash: [UInt8]) {
        precondition(leafHash.count == SHA256.digestCount, "Merkle leaves are 32-byte leaf hashes")
        leafHash.withUnsafeBytes { append(leaf: $0) }
    }

    /// `append` from borrowed bytes (32; anything else traps).
    public mutating func append(leaf leafHash: UnsafeRawBufferPointer) {
        precondition(leafHash.count == SHA256.digestCount, "Merkle leaves are 32-byte leaf hashes")
        let depth = size.nonzeroBitCount
        let oldSize = size
        borderHashes.append(contentsOf: leafHash)  // grows the buffer to depth + 1 hashes
        let newDepth = borderHashes.withUnsafeMutableBytes { stack in
            MerkleHashStack.push(leafHash.baseAddress!, size: oldSize, depth: depth, stack: stack.baseAddress!)
        }
        borderHashes.removeLast((depth + 1 - newDepth) * SHA256.digestCount)
        size += 1
    }

    /// Appends the root of a complete subtree of 2^`height` leaves (32 bytes at `subtreeRoot`),
    /// with the same result as appending its leaves one by one: the frontier's size must be a
    /// multiple of 2^`height`, so the subtree is one of the tree's own (RFC 6962 §2.1 splits at
    /// powers of two). What lets the verifier hash runs of leaves on other cores.
    public mutating func append(subtreeRoot: UnsafeRawPointer, height: Int) {
        precondition(height >= 0 && height < 63 && size & ((1 << UInt64(height)) - 1) == 0, "a subtree must sit at a multiple of its size")
        let depth = size.nonzeroBitCount
        borderHashes.append(contentsOf: UnsafeRawBufferPointer(start: subtreeRoot, count: SHA256.digestCount))
        let newDepth = borderHashes.withUnsafeMutableBytes { stack in
            // The stack merges by the bits of the size counted in subtrees of this height.
            MerkleHashStack.push(subtreeRoot, size: size >> UInt64(height), depth: depth, stack: stack.baseAddress!)
        }
        borderHashes.removeLast((depth + 1 - newDepth) * SHA256.digestCount)
        size += 1 << UInt64(height)
    }

    /// MTH of the 2^`height` leaf hashes lying contiguous at `leaves` (32 bytes each), into
    /// `output` (32 bytes), allocating nothing.
    public static func subtreeRoot(leaves: UnsafeRawPointer, height: Int, into output: UnsafeMutableRawPointer) {
        withUnsafeTemporaryAllocation(byteCount: MerkleHashStack.capacity, alignment: 16) { stack in
            let base = stack.baseAddress!
            var depth = 0
            for position in 0..<(1 << height) {
                depth = MerkleHashStack.push(leaves + position * SHA256.digestCount, size: UInt64(position), depth: depth, stack: base)
            }
            output.copyMemory(from: base, byteCount: SHA256.digestCount)
        }
    }

    /// MTH of the `size` leaves appended so far (`MerkleTree.emptyRoot` when none).
    public func root() -> [UInt8] {
        guard size > 0 else { return MerkleTree.emptyRoot }
        return borderHashes.withUnsafeBytes { stack in
            [UInt8](unsafeUninitializedCapacity: SHA256.digestCount) { output, count in
                MerkleHashStack.fold(stack: stack.baseAddress!, depth: size.nonzeroBitCount, into: output.baseAddress!)
                count = SHA256.digestCount
            }
        }
    }

    /// The persisted form: `size` as 8 bytes big-endian, then the border hashes as stored.
    public var serialized: [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(8 + borderHashes.count)
        withUnsafeBytes(of: size.bigEndian) { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: borderHashes)
        return bytes
    }

    /// Reads `serialized`, refusing bytes whose length does not match the size they declare.
    public init(serialized bytes: [UInt8]) throws(MerkleFrontierError) {
        guard bytes.count >= 8 else { throw .truncated(byteCount: bytes.count) }
        let size = bytes[0..<8].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        let expected = 8 + size.nonzeroBitCount * SHA256.digestCount
        guard bytes.count == expected else {
            throw .lengthMismatch(size: size, byteCount: bytes.count, expected: expected)
        }
        self.size = size
        var hashes: [UInt8] = []
        hashes.reserveCapacity(MerkleHashStack.capacity)
        hashes.append(contentsOf: bytes[8...])
        self.borderHashes = hashes
    }
}

public enum MerkleFrontierError: Error, Equatable, Sendable, CustomStringConvertible {
    case truncated(byteCount: Int)
    case lengthMismatch(size: UInt64, byteCount: Int, expected: Int)

    public var description: String {
        switch self {
        case .truncated(let byteCount):
            "a serialized Merkle frontier starts with an 8-byte size; got \(byteCount) bytes"
        case .lengthMismatch(let size, let byteCount, let expected):
            "a Merkle frontier of \(size) leaves is \(expected) bytes (8 + 32 per set bit of the size); got \(byteCount)"
        }
    }
}
