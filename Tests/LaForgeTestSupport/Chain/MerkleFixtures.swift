import Foundation

import LaForgeAudit
import LaForgeCore
import LaForgeGovernance
import LaForgeIdentity
import LaForgeJournal
import LaForgePlugins
import LaForgeSecrets

/// The transparency-dev/merkle proof vectors in Fixtures/rfc6962-merkle (see its README).
enum MerkleFixtures {
    static var directory: URL {
        if let root = Bundle.module.url(forResource: "Fixtures", withExtension: nil) {
            return root.appendingPathComponent("rfc6962-merkle")
        }
        // Fall back to the source tree so the tests also run from an unbundled build.
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/rfc6962-merkle")
    }

    /// Every JSON file under `kind` (`inclusion` or `consistency`), sorted by path.
    static func files(_ kind: String) throws -> [URL] {
        let base = directory.appendingPathComponent(kind)
        guard let walker = FileManager.default.enumerator(at: base, includingPropertiesForKeys: nil) else {
            return []
        }
        return walker.compactMap { $0 as? URL }.filter { $0.pathExtension == "json" }
            .sorted { $0.path < $1.path }
    }

    struct InclusionVector: Decodable {
        var leafIdx: UInt64
        var treeSize: UInt64
        var root: Data
        var leafHash: Data
        var proof: [Data]?
        var desc: String
        var wantErr: Bool
    }

    struct ConsistencyVector: Decodable {
        var size1: UInt64
        var size2: UInt64
        var root1: Data
        var root2: Data
        var proof: [Data]?
        var desc: String
        var wantErr: Bool
    }

    /// Hashes are base64 (Go's []byte JSON encoding); `Data` decodes them the same way.
    static func decode<Vector: Decodable>(_ type: Vector.Type, _ url: URL) throws -> Vector {
        try JSONDecoder().decode(type, from: Data(contentsOf: url))
    }
}
