/// The stack of complete-subtree roots that RFC 6962 tree hashing keeps while it consumes leaves
/// left to right, on caller-provided raw memory, so `MerkleTree.root(of:)` and `MerkleFrontier`
/// share one loop that allocates nothing per leaf.
///
/// After `size` leaves the stack holds one 32-byte hash per set bit of `size`, largest (leftmost)
/// subtree first: the tree's right border. At most 64 entries plus the one being pushed.
enum MerkleHashStack {
    static let hashCount = SHA256.digestCount
    /// Room for the deepest possible stack (64 levels) plus the incoming leaf.
    static let capacity = 65 * hashCount

    /// Pushes `leaf` onto a stack holding the border of a tree of `size` leaves and merges the
    /// complete pairs it creates (one per trailing 1-bit of `size`). Returns the new depth.
    @inline(__always)
    static func push(
        _ leaf: UnsafeRawPointer, size: UInt64, depth: Int, stack: UnsafeMutableRawPointer
    ) -> Int {
        var depth = depth
        (stack + depth * hashCount).copyMemory(from: leaf, byteCount: hashCount)
        depth += 1
        var pending = size
        while pending & 1 == 1 {
            let left = stack + (depth - 2) * hashCount
            // The output may overwrite `left`: SHA256_Update has consumed both inputs by then.
            SHA256.nodeHash(left, left + hashCount, into: left)
            depth -= 1
            pending >>= 1
        }
        return depth
    }

    /// Folds the border right to left into the tree root (RFC 6962 §2.1 MTH for any size ≥ 1).
    @inline(__always)
    static func fold(stack: UnsafeRawPointer, depth: Int, into output: UnsafeMutableRawPointer) {
        precondition(depth > 0)
        output.copyMemory(from: stack + (depth - 1) * hashCount, byteCount: hashCount)
        var level = depth - 2
        while level >= 0 {
            SHA256.nodeHash(stack + level * hashCount, output, into: output)
            level -= 1
        }
    }
}
