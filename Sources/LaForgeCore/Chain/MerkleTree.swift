/// The RFC 6962 / RFC 9162 §2.1 Merkle tree over the audit chain's leaf hashes.
///
/// Every function takes *leaf hashes* (`SHA256.leafHash(entry)`, 32 bytes each), not entries:
/// the chain already computed them, and hashing them again would double the cost of a verify.
/// Passing anything but 32-byte hashes is a programming error and traps.
///
/// Generation walks each subtree once with the border stack of `MerkleHashStack`: O(n) hashes
/// and O(log n) memory per root or proof, no arrays per level. Verification (in
/// `MerkleTree+Verification.swift`) never sees the leaves.
public enum MerkleTree {
    /// MTH({}) = SHA-256 of the empty string (RFC 6962 §2.1).
    public static let emptyRoot: [UInt8] = SHA256.hash([UInt8]())

    /// MTH(leaves).
    public static func root(of leaves: [[UInt8]]) -> [UInt8] {
        subtreeRoot(leaves, leaves.startIndex, leaves.endIndex)
    }

    /// MTH(leaves) of a slice, e.g. the first `m` leaves: `root(of: leaves[..<m])`.
    public static func root(of leaves: ArraySlice<[UInt8]>) -> [UInt8] {
        subtreeRoot(leaves, leaves.startIndex, leaves.endIndex)
    }

    /// PATH(index, D[0:treeSize]) (RFC 9162 §2.1.3.1), lowest sibling first: the hashes
    /// `verifyInclusion` needs to rebuild the root of the first `treeSize` leaves.
    public static func inclusionProof(
        index: UInt64, treeSize: UInt64, leaves: [[UInt8]]
    ) throws(MerkleProofError) -> [[UInt8]] {
        guard treeSize <= UInt64(leaves.count) else {
            throw .treeLargerThanLeaves(treeSize: treeSize, leafCount: UInt64(leaves.count))
        }
        guard index < treeSize else { throw .indexOutOfRange(index: index, treeSize: treeSize) }
        var siblings: [[UInt8]] = []  // top-down while descending; reversed at the end
        var low = 0
        var high = Int(treeSize)
        let target = Int(index)
        while high - low > 1 {
            let split = low + largestPowerOfTwo(below: high - low)
            if target < split {
                siblings.append(subtreeRoot(leaves, split, high))
                high = split
            } else {
                siblings.append(subtreeRoot(leaves, low, split))
                low = split
            }
        }
        return siblings.reversed()
    }

    /// PROOF(oldSize, D[0:newSize]) (RFC 9162 §2.1.4.1), lowest node first: the hashes
    /// `verifyConsistency` needs to show the tree of `oldSize` leaves is a prefix of the tree of
    /// `newSize` leaves. Empty when the sizes are equal or `oldSize` is 0 (nothing to prove).
    public static func consistencyProof(
        from oldSize: UInt64, to newSize: UInt64, leaves: [[UInt8]]
    ) throws(MerkleProofError) -> [[UInt8]] {
        guard newSize <= UInt64(leaves.count) else {
            throw .treeLargerThanLeaves(treeSize: newSize, leafCount: UInt64(leaves.count))
        }
        guard oldSize <= newSize else { throw .shrinkingTree(oldSize: oldSize, newSize: newSize) }
        guard oldSize > 0, oldSize < newSize else { return [] }
        // SUBPROOF(m, D[low:high], startsAtOldRoot), unrolled: descend until the old tree's
        // right edge is a complete subtree boundary, collecting the other side of each split.
        var nodes: [[UInt8]] = []  // top-down while descending; reversed at the end
        var low = 0
        var high = Int(newSize)
        var m = Int(oldSize)
        var startsAtOldRoot = true
        while m != high - low {
            let split = largestPowerOfTwo(below: high - low)
            if m <= split {
                nodes.append(subtreeRoot(leaves, low + split, high))
                high = low + split
            } else {
                nodes.append(subtreeRoot(leaves, low, low + split))
                low += split
                m -= split
                startsAtOldRoot = false
            }
        }
        if !startsAtOldRoot {
            nodes.append(subtreeRoot(leaves, low, high))
        }
        return nodes.reversed()
    }

    /// MTH(leaves[low..<high]) with one stack of border hashes; the tight loop behind every root.
    static func subtreeRoot<Leaves: RandomAccessCollection<[UInt8]>>(
        _ leaves: Leaves, _ low: Leaves.Index, _ high: Leaves.Index
    ) -> [UInt8] where Leaves.Index == Int {
        guard low < high else { return emptyRoot }
        return withUnsafeTemporaryAllocation(byteCount: MerkleHashStack.capacity, alignment: 16) { stack in
            let base = stack.baseAddress!
            var depth = 0
            var size: UInt64 = 0
            for position in low..<high {
                leaves[position].withUnsafeBytes { leaf in
                    precondition(leaf.count == SHA256.digestCount, "Merkle leaves are 32-byte leaf hashes")
                    depth = MerkleHashStack.push(leaf.baseAddress!, size: size, depth: depth, stack: base)
                }
                size += 1
            }
            return [UInt8](unsafeUninitializedCapacity: SHA256.digestCount) { output, count in
                MerkleHashStack.fold(stack: base, depth: depth, into: output.baseAddress!)
                count = SHA256.digestCount
            }
        }
    }

    /// k in RFC 6962 §2.1: the largest power of two smaller than `count` (count ≥ 2).
    @inline(__always)
    static func largestPowerOfTwo(below count: Int) -> Int {
        1 << (Int.bitWidth - 1 - (count - 1).leadingZeroBitCount)
    }
}

/// Why a proof could not be generated: the caller asked about leaves it did not pass.
public enum MerkleProofError: Error, Equatable, Sendable, CustomStringConvertible {
    case indexOutOfRange(index: UInt64, treeSize: UInt64)
    case treeLargerThanLeaves(treeSize: UInt64, leafCount: UInt64)
    case shrinkingTree(oldSize: UInt64, newSize: UInt64)

    public var description: String {
        switch self {
        case .indexOutOfRange(let index, let treeSize):
            "leaf index \(index) is outside a tree of \(treeSize) leaves"
        case .treeLargerThanLeaves(let treeSize, let leafCount):
            "a tree of \(treeSize) leaves was asked for, but only \(leafCount) leaf hashes were given"
        case .shrinkingTree(let oldSize, let newSize):
            "no consistency proof from \(oldSize) leaves to fewer (\(newSize))"
        }
    }
}
