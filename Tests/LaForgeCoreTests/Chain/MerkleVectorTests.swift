import Foundation
import Testing
@testable import LaForgeTestSupport

@testable import LaForgeAudit
@testable import LaForgeCore
@testable import LaForgeGovernance
@testable import LaForgeIdentity
@testable import LaForgeJournal
@testable import LaForgePlugins
@testable import LaForgeSecrets

/// Every inclusion and consistency vector from transparency-dev/merkle, the tampered ones
/// included: a proof passes exactly when the vector says it should.
@Suite("Merkle proof vectors (transparency-dev/merkle)")
struct MerkleVectorTests {
    @Test("every inclusion vector")
    func inclusion() throws {
        let (count, rejected) = try Self.run("inclusion", MerkleFixtures.InclusionVector.self) { vector in
            (MerkleTree.verifyInclusion(
                leafHash: [UInt8](vector.leafHash), index: vector.leafIdx, treeSize: vector.treeSize,
                proof: (vector.proof ?? []).map { [UInt8]($0) }, root: [UInt8](vector.root)), vector.wantErr, vector.desc)
        }
        #expect(count == 98)
        #expect(rejected == 92)  // 6 happy paths; the rest are tampered or malformed
    }

    @Test("every consistency vector")
    func consistency() throws {
        let (count, rejected) = try Self.run("consistency", MerkleFixtures.ConsistencyVector.self) { vector in
            (MerkleTree.verifyConsistency(
                oldSize: vector.size1, newSize: vector.size2, oldRoot: [UInt8](vector.root1),
                newRoot: [UInt8](vector.root2), proof: (vector.proof ?? []).map { [UInt8]($0) }), vector.wantErr, vector.desc)
        }
        #expect(count == 98)
        #expect(rejected == 92)
    }

    /// Runs `verify` (verified, wantErr, description) on every file of `kind`; returns how many
    /// ran and how many were rejected.
    static func run<Vector: Decodable>(
        _ kind: String, _ type: Vector.Type, verify: (Vector) -> (Bool, Bool, String)
    ) throws -> (count: Int, rejected: Int) {
        let files = try MerkleFixtures.files(kind)
        var rejected = 0
        for file in files {
            let (verified, wantErr, desc) = verify(try MerkleFixtures.decode(type, file))
            #expect(verified == !wantErr, "\(kind)/\(file.deletingLastPathComponent().lastPathComponent)/\(file.lastPathComponent): \(desc)")
            if !verified { rejected += 1 }
        }
        return (files.count, rejected)
    }

    /// The vectors' happy paths share one 8-leaf tree; rebuild its root from the RFC 6962
    /// reference leaves so generation is checked against upstream too, not only verification.
    @Test("the reference tree's roots and proofs match the vectors")
    func referenceTree() throws {
        // Leaf data of the RFC 6962 test tree used by transparency-dev/merkle (and CT's C++ code).
        let entries: [[UInt8]] = [
            [], [0x00], [0x10], [0x20, 0x21], [0x30, 0x31], [0x40, 0x41, 0x42, 0x43],
            [0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57],
            [0x60, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f],
        ]
        let leaves = entries.map { SHA256.leafHash($0) }
        #expect(MerkleTree.root(of: leaves).hexString == "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328")
        #expect(MerkleTree.root(of: []).hexString == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")

        let happy = try MerkleFixtures.decode(
            MerkleFixtures.InclusionVector.self,
            MerkleFixtures.directory.appendingPathComponent("inclusion/1/happy-path.json"))
        #expect(leaves[Int(happy.leafIdx)] == [UInt8](happy.leafHash))
        let proof = try MerkleTree.inclusionProof(index: happy.leafIdx, treeSize: happy.treeSize, leaves: leaves)
        #expect(proof == (happy.proof ?? []).map { [UInt8]($0) })

        for file in try MerkleFixtures.files("consistency") {
            let vector = try MerkleFixtures.decode(MerkleFixtures.ConsistencyVector.self, file)
            guard !vector.wantErr, vector.size2 <= 8, vector.size1 > 0, vector.root1.count == 32 else { continue }  // "additional/" uses placeholder roots
            #expect(MerkleTree.root(of: leaves[..<Int(vector.size1)]) == [UInt8](vector.root1))
            #expect(MerkleTree.root(of: leaves[..<Int(vector.size2)]) == [UInt8](vector.root2))
            let generated = try MerkleTree.consistencyProof(from: vector.size1, to: vector.size2, leaves: leaves)
            #expect(generated == (vector.proof ?? []).map { [UInt8]($0) }, "\(file.path)")
        }
    }
}
