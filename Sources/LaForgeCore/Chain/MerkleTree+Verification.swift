import Glibc

/// Proof verification, RFC 9162 §2.1.3.2 (inclusion) and §2.1.4.2 (consistency).
///
/// Both return `false` for any malformed input rather than throwing: a proof of the wrong
/// length, a hash that is not 32 bytes, an index outside the tree, a shrinking tree. A verifier
/// learns nothing more useful from the reason than "this proof does not prove it".
extension MerkleTree {
    /// Whether `proof` shows that `leafHash` is leaf `index` of the tree of `treeSize` leaves
    /// whose root is `root`.
    public static func verifyInclusion(
        leafHash: [UInt8], index: UInt64, treeSize: UInt64, proof: [[UInt8]], root: [UInt8]
    ) -> Bool {
        guard index < treeSize, leafHash.count == SHA256.digestCount, root.count == SHA256.digestCount,
            proof.allSatisfy({ $0.count == SHA256.digestCount })
        else { return false }
        return withHashRegisters(count: 1) { r in
            r.copyMemory(from: leafHash, byteCount: SHA256.digestCount)
            var fn = index
            var sn = treeSize - 1
            for element in proof {
                guard sn != 0 else { return false }  // proof longer than the path
                element.withUnsafeBytes { p in
                    if fn & 1 == 1 || fn == sn {
                        SHA256.nodeHash(p.baseAddress!, r, into: r)
                        // On the right border a left child has no sibling at this level:
                        // climb until it is a right child again (or the root).
                        while fn & 1 == 0 && fn != 0 {
                            fn >>= 1
                            sn >>= 1
                        }
                    } else {
                        SHA256.nodeHash(r, p.baseAddress!, into: r)
                    }
                }
                fn >>= 1
                sn >>= 1
            }
            return sn == 0 && equals(r, root)
        }
    }

    /// Whether `proof` shows that the tree of `oldSize` leaves with root `oldRoot` is a prefix of
    /// the tree of `newSize` leaves with root `newRoot`.
    ///
    /// As in RFC 9162 (and transparency-dev/merkle), a proof from the empty tree is refused: every
    /// tree extends the empty one, so there is nothing to prove and a "proof" is a caller error.
    /// Equal sizes need an empty proof and equal roots.
    public static func verifyConsistency(
        oldSize: UInt64, newSize: UInt64, oldRoot: [UInt8], newRoot: [UInt8], proof: [[UInt8]]
    ) -> Bool {
        guard oldSize > 0, oldSize <= newSize else { return false }
        if oldSize == newSize { return proof.isEmpty && oldRoot == newRoot }
        guard !proof.isEmpty, oldRoot.count == SHA256.digestCount, newRoot.count == SHA256.digestCount,
            proof.allSatisfy({ $0.count == SHA256.digestCount })
        else { return false }

        // When the old tree is a complete subtree, its root is the proof's implicit first node.
        let oldIsComplete = oldSize & (oldSize - 1) == 0
        var rest = proof[...]
        return withHashRegisters(count: 2) { fr in
            let sr = fr + SHA256.digestCount
            let seed = oldIsComplete ? oldRoot : rest.removeFirst()
            fr.copyMemory(from: seed, byteCount: SHA256.digestCount)
            sr.copyMemory(from: seed, byteCount: SHA256.digestCount)
            var fn = oldSize - 1
            var sn = newSize - 1
            while fn & 1 == 1 {
                fn >>= 1
                sn >>= 1
            }
            for element in rest {
                guard sn != 0 else { return false }
                element.withUnsafeBytes { c in
                    if fn & 1 == 1 || fn == sn {
                        SHA256.nodeHash(c.baseAddress!, fr, into: fr)
                        SHA256.nodeHash(c.baseAddress!, sr, into: sr)
                        while fn & 1 == 0 && fn != 0 {
                            fn >>= 1
                            sn >>= 1
                        }
                    } else {
                        SHA256.nodeHash(sr, c.baseAddress!, into: sr)
                    }
                }
                fn >>= 1
                sn >>= 1
            }
            return sn == 0 && equals(fr, oldRoot) && equals(sr, newRoot)
        }
    }

    /// Scratch space for `count` running hashes, on the stack.
    private static func withHashRegisters(
        count: Int, _ body: (UnsafeMutableRawPointer) -> Bool
    ) -> Bool {
        withUnsafeTemporaryAllocation(byteCount: count * SHA256.digestCount, alignment: 16) {
            body($0.baseAddress!)
        }
    }

    private static func equals(_ register: UnsafeRawPointer, _ expected: [UInt8]) -> Bool {
        expected.withUnsafeBytes { memcmp(register, $0.baseAddress!, SHA256.digestCount) == 0 }
    }
}
