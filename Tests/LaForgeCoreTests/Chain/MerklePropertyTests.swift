import Testing
@testable import LaForgeTestSupport

@testable import LaForgeAudit
@testable import LaForgeCore
@testable import LaForgeGovernance
@testable import LaForgeIdentity
@testable import LaForgeJournal
@testable import LaForgePlugins
@testable import LaForgeSecrets

/// Generated proofs against the verifiers and against a literal transcription of the RFC 6962
/// §2.1 recursive definitions, over random tree sizes up to 300.
@Suite("Merkle tree properties")
struct MerklePropertyTests {
    /// Fixed seed: a failure reproduces. Sizes cover the edges (powers of two and their
    /// neighbours) plus random ones.
    static let sizes: [Int] = {
        var generator = SplitMix64(seed: 0x6c61_666f_7267_65)
        return [1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 31, 32, 33, 255, 256, 257]
            + (0..<8).map { _ in Int.random(in: 1...300, using: &generator) }
    }()

    static func leaves(_ count: Int) -> [[UInt8]] {
        (0..<count).map { SHA256.leafHash(Array("entry \($0)".utf8)) }
    }

    @Test("root(of:) equals the recursive MTH and the frontier root at every size 0...300")
    func roots() {
        let leaves = Self.leaves(300)
        var frontier = MerkleFrontier()
        #expect(frontier.root() == MerkleTree.emptyRoot)
        for size in 1...300 {
            frontier.append(leaves[size - 1])
            let root = MerkleTree.root(of: leaves[..<size])
            #expect(root == MerkleReference.mth(leaves[..<size]), "size \(size)")
            #expect(frontier.root() == root, "size \(size)")
            #expect(frontier.size == UInt64(size))
            #expect(frontier.borderHashes.count == size.nonzeroBitCount * 32)
        }
        #expect(MerkleTree.root(of: leaves) == frontier.root())
    }

    @Test("frontier serialization round-trips and rejects wrong lengths")
    func frontierSerialization() throws {
        let leaves = Self.leaves(77)
        var frontier = MerkleFrontier()
        for size in 0...77 {
            if size > 0 { frontier.append(leaves[size - 1]) }
            let bytes = frontier.serialized
            #expect(bytes.count == 8 + size.nonzeroBitCount * 32)
            var restored = try MerkleFrontier(serialized: bytes)
            #expect(restored == frontier)
            #expect(restored.root() == frontier.root())
            // Extending the restored frontier matches building from scratch.
            for leaf in leaves[size...] { restored.append(leaf) }
            #expect(restored.root() == MerkleTree.root(of: leaves))
        }
        #expect(Array(frontier.serialized.prefix(8)) == [0, 0, 0, 0, 0, 0, 0, 77])
        #expect(throws: MerkleFrontierError.truncated(byteCount: 3)) { try MerkleFrontier(serialized: [0, 0, 0]) }
        #expect(throws: MerkleFrontierError.lengthMismatch(size: 77, byteCount: 8 + 4 * 32 - 1, expected: 8 + 4 * 32)) {
            try MerkleFrontier(serialized: Array(frontier.serialized.dropLast()))
        }
        #expect(throws: MerkleFrontierError.lengthMismatch(size: 1, byteCount: 8, expected: 40)) {
            try MerkleFrontier(serialized: [0, 0, 0, 0, 0, 0, 0, 1])
        }
    }

    @Test("every inclusion proof verifies and matches the RFC definition", arguments: sizes)
    func inclusion(size: Int) throws {
        let leaves = Self.leaves(size)
        let root = MerkleTree.root(of: leaves)
        for index in 0..<size {
            let proof = try MerkleTree.inclusionProof(index: UInt64(index), treeSize: UInt64(size), leaves: leaves)
            #expect(proof == MerkleReference.path(index, leaves[...]))
            #expect(MerkleTree.verifyInclusion(leafHash: leaves[index], index: UInt64(index), treeSize: UInt64(size), proof: proof, root: root))
            // Wrong index, wrong leaf, shorter or longer proof: all refused. (A wrong tree size is
            // not always detectable from the proof alone: size n and n + 1 can share the path
            // shape. The size is bound by the signed checkpoint, not by the proof.)
            if size > 1 {
                let other = (index + 1) % size
                #expect(!MerkleTree.verifyInclusion(leafHash: leaves[index], index: UInt64(other), treeSize: UInt64(size), proof: proof, root: root))
                #expect(!MerkleTree.verifyInclusion(leafHash: leaves[other], index: UInt64(index), treeSize: UInt64(size), proof: proof, root: root))
                #expect(!MerkleTree.verifyInclusion(leafHash: leaves[index], index: UInt64(index), treeSize: UInt64(size), proof: Array(proof.dropLast()), root: root))
            }
            #expect(!MerkleTree.verifyInclusion(leafHash: leaves[index], index: UInt64(index), treeSize: UInt64(size), proof: proof + [root], root: root))
            #expect(!MerkleTree.verifyInclusion(leafHash: leaves[index], index: UInt64(size), treeSize: UInt64(size), proof: proof, root: root))
            Self.forEachFlippedBit(of: proof, exhaustive: size <= 33) { tampered in
                #expect(!MerkleTree.verifyInclusion(leafHash: leaves[index], index: UInt64(index), treeSize: UInt64(size), proof: tampered, root: root))
            }
        }
        #expect(throws: MerkleProofError.indexOutOfRange(index: UInt64(size), treeSize: UInt64(size))) {
            try MerkleTree.inclusionProof(index: UInt64(size), treeSize: UInt64(size), leaves: leaves)
        }
    }

    @Test("every consistency proof (m ≤ n) verifies and matches the RFC definition", arguments: sizes)
    func consistency(size: Int) throws {
        let leaves = Self.leaves(size)
        let newRoot = MerkleTree.root(of: leaves)
        for oldSize in 1...size {
            let oldRoot = MerkleTree.root(of: leaves[..<oldSize])
            let proof = try MerkleTree.consistencyProof(from: UInt64(oldSize), to: UInt64(size), leaves: leaves)
            #expect(proof == MerkleReference.proof(oldSize, leaves[...]))
            #expect(MerkleTree.verifyConsistency(oldSize: UInt64(oldSize), newSize: UInt64(size), oldRoot: oldRoot, newRoot: newRoot, proof: proof))
            #expect(!MerkleTree.verifyConsistency(oldSize: UInt64(oldSize), newSize: UInt64(size), oldRoot: newRoot == oldRoot ? MerkleReference.flip(oldRoot, bit: 0) : newRoot, newRoot: newRoot, proof: proof))
            if oldSize < size {
                #expect(!MerkleTree.verifyConsistency(oldSize: UInt64(oldSize), newSize: UInt64(size), oldRoot: oldRoot, newRoot: newRoot, proof: Array(proof.dropLast())))
                #expect(!MerkleTree.verifyConsistency(oldSize: UInt64(oldSize), newSize: UInt64(size), oldRoot: oldRoot, newRoot: newRoot, proof: proof + [newRoot]))
            }
            Self.forEachFlippedBit(of: proof, exhaustive: size <= 33) { tampered in
                #expect(!MerkleTree.verifyConsistency(oldSize: UInt64(oldSize), newSize: UInt64(size), oldRoot: oldRoot, newRoot: newRoot, proof: tampered))
            }
        }
        #expect(try MerkleTree.consistencyProof(from: 0, to: UInt64(size), leaves: leaves).isEmpty)
        #expect(throws: MerkleProofError.shrinkingTree(oldSize: UInt64(size), newSize: 0)) {
            try MerkleTree.consistencyProof(from: UInt64(size), to: 0, leaves: leaves)
        }
        #expect(throws: MerkleProofError.treeLargerThanLeaves(treeSize: UInt64(size) + 1, leafCount: UInt64(size))) {
            try MerkleTree.consistencyProof(from: 1, to: UInt64(size) + 1, leaves: leaves)
        }
    }

    /// Every bit of every element when `exhaustive`, otherwise one random bit per element (the
    /// exhaustive sweep over 257-leaf trees would take minutes in a debug build).
    static func forEachFlippedBit(of proof: [[UInt8]], exhaustive: Bool, _ check: ([[UInt8]]) -> Void) {
        var generator = SplitMix64(seed: UInt64(proof.count))
        for element in proof.indices {
            let bits = exhaustive ? Array(0..<256) : [Int.random(in: 0..<256, using: &generator)]
            for bit in bits {
                var tampered = proof
                tampered[element] = MerkleReference.flip(proof[element], bit: bit)
                check(tampered)
            }
        }
    }
}

/// RFC 6962 §2.1 as written: recursive, an array per call, obviously correct and slow.
enum MerkleReference {
    static func k(_ n: Int) -> Int {
        var k = 1
        while k << 1 < n { k <<= 1 }
        return k
    }

    static func mth(_ d: ArraySlice<[UInt8]>) -> [UInt8] {
        switch d.count {
        case 0: return SHA256.hash([UInt8]())
        case 1: return d.first!
        default:
            let split = d.startIndex + k(d.count)
            return SHA256.nodeHash(mth(d[..<split]), mth(d[split...]))
        }
    }

    static func path(_ m: Int, _ d: ArraySlice<[UInt8]>) -> [[UInt8]] {
        guard d.count > 1 else { return [] }
        let split = d.startIndex + k(d.count)
        if m < k(d.count) { return path(m, d[..<split]) + [mth(d[split...])] }
        return path(m - k(d.count), d[split...]) + [mth(d[..<split])]
    }

    static func proof(_ m: Int, _ d: ArraySlice<[UInt8]>) -> [[UInt8]] {
        subproof(m, d, true)
    }

    static func subproof(_ m: Int, _ d: ArraySlice<[UInt8]>, _ b: Bool) -> [[UInt8]] {
        if m == d.count { return b ? [] : [mth(d)] }
        let split = d.startIndex + k(d.count)
        if m <= k(d.count) { return subproof(m, d[..<split], b) + [mth(d[split...])] }
        return subproof(m - k(d.count), d[split...], false) + [mth(d[..<split])]
    }

    static func flip(_ hash: [UInt8], bit: Int) -> [UInt8] {
        var flipped = hash
        flipped[bit / 8] ^= 1 << (bit % 8)
        return flipped
    }
}

/// A seeded generator (Vigna's SplitMix64) so property-test failures reproduce.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}
