import Foundation
import LaForgeCore

/// Audit records that look like a real journal's — canonical-JSON entries chained by
/// `prev_hash`, and C2SP tlog-checkpoint notes — but carry random hashes, so a conformance run
/// never collides with a real chain in the sink it is pointed at.
struct SyntheticAuditChain {
    let chainID: String
    private(set) var nextSeq: UInt64 = 0
    private var lastHash = [UInt8](repeating: 0, count: 32)

    init(chainID: String) {
        self.chainID = chainID
    }

    /// The next `count` entries, seq ascending, each `prev_hash` the hash of the one before.
    mutating func entries(_ count: Int) -> [AuditRecord] {
        (0..<count).map { _ in
            let hash = randomBytes(32)
            let data: JSONValue = [
                "action": "laforge.plugins.check",
                "actor": "laforge plugins check",
                "chain": .string(chainID),
                "outcome": "success",
                "seq": .number(Double(nextSeq)),
            ]
            let record = AuditRecord(
                kind: .entry, seq: nextSeq, hash: hash, prevHash: lastHash,
                data: JSONCanonicalizer.canonicalize(data))
            lastHash = hash
            nextSeq += 1
            return record
        }
    }

    /// A checkpoint over every entry so far: a C2SP signed note (origin, tree size, root hash,
    /// blank line, signature line) with a random root and signature.
    func checkpoint() -> AuditRecord {
        let root = randomBytes(32)
        let signature = randomBytes(4 + 64)
        let note =
            "laforge.check/\(chainID)\n\(nextSeq)\n\(Data(root).base64EncodedString())\n\n"
            + "\u{2014} laforge-check \(Data(signature).base64EncodedString())\n"
        return AuditRecord(kind: .checkpoint, seq: nextSeq, hash: root, prevHash: nil, data: Array(note.utf8))
    }
}

func randomBytes(_ count: Int) -> [UInt8] {
    var generator = SystemRandomNumberGenerator()
    return (0..<count).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
}
