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

@Suite("Checkpoint signed notes (C2SP tlog-checkpoint, signed-note)")
struct CheckpointTests {
    static let origin = "laforge.test/audit"
    static let oldKey = try! Ed25519SigningKey(name: "laforge-2025", seed: [UInt8](repeating: 1, count: 32))
    static let newKey = try! Ed25519SigningKey(name: "laforge-2026", seed: [UInt8](repeating: 2, count: 32))
    static let witness = try! Ed25519SigningKey(name: "witness.example", seed: [UInt8](repeating: 3, count: 32))
    static let checkpoint = try! Checkpoint(
        origin: origin, size: 1234, rootHash: SHA256.hash(Array("root".utf8)))

    @Test("body layout and round trip")
    func roundTrip() throws {
        let root = Self.checkpoint.rootHash
        #expect(Self.checkpoint.body == "\(Self.origin)\n1234\n\(Data(root).base64EncodedString())\n")
        let note = Self.checkpoint.signedNote(signers: [Self.newKey])
        #expect(note.hasPrefix(Self.checkpoint.body + "\n— laforge-2026 "))
        let (opened, signedBy) = try Checkpoint.open(note: note, verifiers: [Self.newKey.verifierKey], expectedOrigin: Self.origin)
        #expect(opened == Self.checkpoint)
        #expect(signedBy == ["laforge-2026"])

        let withExtensions = try Checkpoint(origin: Self.origin, size: 0, rootHash: MerkleTree.emptyRoot, extensions: ["ext one", "ext two"])
        let (reopened, _) = try Checkpoint.open(
            note: withExtensions.signedNote(signers: [Self.newKey]), verifiers: [Self.newKey.verifierKey], expectedOrigin: nil)
        #expect(reopened == withExtensions)
        #expect(reopened.extensions == ["ext one", "ext two"])
    }

    @Test("co-signed by two keys; either key alone verifies (rotation)")
    func coSigning() throws {
        let note = Self.checkpoint.signedNote(signers: [Self.oldKey, Self.newKey])
        #expect(note.components(separatedBy: "\n— ").count == 3)
        let both = try Checkpoint.open(note: note, verifiers: [Self.newKey.verifierKey, Self.oldKey.verifierKey], expectedOrigin: Self.origin)
        #expect(both.signedBy == ["laforge-2025", "laforge-2026"])
        let oldOnly = try Checkpoint.open(note: note, verifiers: [Self.oldKey.verifierKey], expectedOrigin: Self.origin)
        #expect(oldOnly.signedBy == ["laforge-2025"])
        #expect(oldOnly.0 == Self.checkpoint)
        // A note signed only by the old key still opens while the old key is trusted.
        let old = Self.checkpoint.signedNote(signers: [Self.oldKey])
        #expect(try Checkpoint.open(note: old, verifiers: [Self.newKey.verifierKey, Self.oldKey.verifierKey], expectedOrigin: nil).signedBy == ["laforge-2025"])
        // Unknown co-signers (a witness) are ignored when a trusted key verifies.
        let witnessed = Self.checkpoint.signedNote(signers: [Self.witness, Self.newKey])
        #expect(try Checkpoint.open(note: witnessed, verifiers: [Self.newKey.verifierKey], expectedOrigin: nil).signedBy == ["laforge-2026"])
    }

    @Test("an edited size or root is a forgery")
    func forged() throws {
        let note = Self.checkpoint.signedNote(signers: [Self.witness, Self.newKey])
        let editedSize = note.replacingOccurrences(of: "\n1234\n", with: "\n1235\n")
        let otherRoot = Data(SHA256.hash(Array("other".utf8))).base64EncodedString()
        let editedRoot = note.replacingOccurrences(of: Data(Self.checkpoint.rootHash).base64EncodedString(), with: otherRoot)
        let garbledSize = note.replacingOccurrences(of: "\n1234\n", with: "\n12x4\n")
        for tampered in [editedSize, editedRoot, garbledSize] {
            #expect(tampered != note)
            #expect(throws: CheckpointError.forged(keyName: "laforge-2026", keyID: Self.newKey.verifierKey.keyID)) {
                try Checkpoint.open(note: tampered, verifiers: [Self.newKey.verifierKey], expectedOrigin: Self.origin)
            }
        }
        // A trusted key's bad signature is a forgery even when another trusted key verifies.
        let good = Self.checkpoint.signedNote(signers: [Self.oldKey])
        let other = try Checkpoint(origin: Self.origin, size: 1235, rootHash: Self.checkpoint.rootHash)
        let transplanted = other.signedNote(signers: [Self.newKey]).components(separatedBy: "\n\n")[1]
        #expect(throws: CheckpointError.forged(keyName: "laforge-2026", keyID: Self.newKey.verifierKey.keyID)) {
            try Checkpoint.open(note: good + transplanted, verifiers: [Self.oldKey.verifierKey, Self.newKey.verifierKey], expectedOrigin: nil)
        }
    }

    @Test("only unknown keys: the error lists them")
    func unknownKeyOnly() {
        let note = Self.checkpoint.signedNote(signers: [Self.witness, Self.oldKey])
        let expected = [
            NoteSignerID(name: "witness.example", keyID: Self.witness.verifierKey.keyID),
            NoteSignerID(name: "laforge-2025", keyID: Self.oldKey.verifierKey.keyID),
        ]
        #expect(throws: CheckpointError.noKnownSignature(found: expected)) {
            try Checkpoint.open(note: note, verifiers: [Self.newKey.verifierKey], expectedOrigin: nil)
        }
        // Same name, other key: identified by id, so still unknown.
        let impostor = try! Ed25519SigningKey(name: "laforge-2026", seed: [UInt8](repeating: 9, count: 32))
        #expect(throws: CheckpointError.noKnownSignature(found: [NoteSignerID(name: "laforge-2026", keyID: impostor.verifierKey.keyID)])) {
            try Checkpoint.open(note: Self.checkpoint.signedNote(signers: [impostor]), verifiers: [Self.newKey.verifierKey], expectedOrigin: nil)
        }
        #expect(CheckpointError.noKnownSignature(found: expected).description.contains("witness.example+\(Self.witness.verifierKey.keyIDHex)"))
    }

    @Test("origin mismatch")
    func originMismatch() {
        let note = Self.checkpoint.signedNote(signers: [Self.newKey])
        #expect(throws: CheckpointError.originMismatch(expected: "other.log", found: Self.origin)) {
            try Checkpoint.open(note: note, verifiers: [Self.newKey.verifierKey], expectedOrigin: "other.log")
        }
    }

    @Test("malformed notes are refused with the line")
    func malformed() throws {
        let note = Self.checkpoint.signedNote(signers: [Self.newKey])
        let verifiers = [Self.newKey.verifierKey]
        func failure(_ text: String) -> CheckpointError? {
            do {
                _ = try Checkpoint.open(note: text, verifiers: verifiers, expectedOrigin: nil)
                return nil
            } catch { return error }
        }
        // Truncations: mid-signature, no final newline, no signature, no blank line.
        let signatureStart = note.range(of: "\n\n")!.upperBound
        #expect(failure(String(note.dropLast())) == .malformedNote(line: 5, reason: "the last signature line does not end with a newline"))
        #expect(failure(String(note[..<signatureStart])) == .malformedNote(line: 5, reason: "a signed note needs at least one signature line"))
        #expect(failure(Self.checkpoint.body) == .malformedNote(line: 4, reason: "no blank line before the signatures"))
        if case .malformedNote = failure(String(note.dropLast(20)) + "\n") {} else { Issue.record("truncated signature accepted") }
        #expect(failure("") != nil)
        // \r, tabs, bad UTF-8.
        #expect(failure(note.replacingOccurrences(of: "\n", with: "\r\n")) == .malformedNote(line: 1, reason: "control character 0xd at byte \(Self.origin.utf8.count) (only \\n may end a line)"))
        var bytes = Array(note.utf8)
        bytes[2] = 0xFF
        #expect(throws: CheckpointError.malformedNote(line: 1, reason: "the note is not valid UTF-8")) {
            try Checkpoint.open(note: bytes, verifiers: verifiers, expectedOrigin: nil)
        }
        // Signature lines: wrong dash, name with '+', missing fields, short blob.
        let line = String(note[signatureStart...])
        let body = String(note[..<signatureStart])
        for bad in [line.replacingOccurrences(of: "— ", with: "- "),
                    line.replacingOccurrences(of: "laforge-2026", with: "laforge+2026"),
                    "— laforge-2026\n", "— laforge-2026 AAAA\n", "— laforge-2026 !!!!\n", "—  AAAAAAAA\n"] {
            guard case .malformedNote(line: 5, _) = failure(body + bad) else {
                Issue.record("accepted or misreported: \(bad)")
                continue
            }
        }
        // The same trusted key twice.
        guard case .malformedNote(line: 6, _) = failure(note + line) else { Issue.record("duplicate signature accepted"); return }
        // Unparsable body fields with a valid signature are reported as such.
        let badSize = SignedNote.sign(text: "\(Self.origin)\n01234\n\(Data(Self.checkpoint.rootHash).base64EncodedString())\n", signers: [Self.newKey])
        #expect(failure(badSize) == .unparsableSize("01234"))
        let badRoot = SignedNote.sign(text: "\(Self.origin)\n1\nAAAA\n", signers: [Self.newKey])
        #expect(failure(badRoot) == .unparsableRootHash("AAAA"))
        let short = SignedNote.sign(text: "\(Self.origin)\n1\n", signers: [Self.newKey])
        #expect(failure(short) == .malformedNote(line: 3, reason: "a checkpoint body has an origin, a size and a root hash line"))
        // Fields that cannot be written.
        #expect(throws: CheckpointError.self) { try Checkpoint(origin: "", size: 1, rootHash: MerkleTree.emptyRoot) }
        #expect(throws: CheckpointError.self) { try Checkpoint(origin: "a\nb", size: 1, rootHash: MerkleTree.emptyRoot) }
        #expect(throws: CheckpointError.self) { try Checkpoint(origin: "a", size: 1, rootHash: [1, 2]) }
        #expect(throws: CheckpointError.self) { try Checkpoint(origin: "a", size: 1, rootHash: MerkleTree.emptyRoot, extensions: [""]) }
    }

    /// Key id and signature line computed by hand, and the reference note from
    /// golang.org/x/mod/sumdb/note (Ed25519 is deterministic, so ours must match byte for byte).
    @Test("key id and signature line match independent computations")
    func crossCheck() throws {
        // PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz, decoded by
        // hand: its base64 contains '+', which `Ed25519SigningKey(parsing:)` does not handle yet.
        let seed = [UInt8](Data(base64Encoded: "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz")!).dropFirst()
        let signer = try Ed25519SigningKey(name: "PeterNeumann", seed: Array(seed))
        let verifier = try Ed25519VerifierKey(parsing: "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")
        // key id = SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key)[0..<4], big-endian.
        let digest = SHA256.hash(Array("PeterNeumann".utf8) + [0x0A, 0x01] + verifier.publicKey)
        #expect(Array(digest.prefix(4)).hexString == "c74f20a3")
        #expect(verifier.keyID == 0xc74f_20a3)

        let text = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
        let goNote = text + "\n— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
        #expect(SignedNote.sign(text: text, signers: [signer]) == goNote)
        let blob = [UInt8](Data(base64Encoded: "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=")!)
        #expect(blob.count == 68)
        #expect(Array(blob.prefix(4)) == Array(digest.prefix(4)))
        #expect(verifier.isValidSignature(Array(blob.dropFirst(4)), for: Array(text.utf8)))
        let opened = try SignedNote.open(Array(goNote.utf8), verifiers: [verifier])
        #expect(Array(opened.text) == Array(text.utf8))
        #expect(throws: CheckpointError.forged(keyName: "PeterNeumann", keyID: 0xc74f_20a3)) {
            try SignedNote.open(Array(goNote.replacingOccurrences(of: "cryptography", with: "cryptographY").utf8), verifiers: [verifier])
        }

        // Our checkpoint line: "— " + name + " " + base64(key id ‖ 64-byte signature over the body).
        let note = Self.checkpoint.signedNote(signers: [Self.newKey])
        let line = note.components(separatedBy: "\n\n")[1]
        #expect(line.hasPrefix("\u{2014} laforge-2026 ") && line.hasSuffix("\n"))
        let ours = [UInt8](Data(base64Encoded: String(line.dropFirst(2 + "laforge-2026".count + 1).dropLast()))!)
        let ourID = SHA256.hash(Array("laforge-2026".utf8) + [0x0A, 0x01] + Self.newKey.verifierKey.publicKey).prefix(4)
        #expect(ours.count == 68 && Array(ours.prefix(4)) == Array(ourID))
        #expect(Array(ours.dropFirst(4)) == Self.newKey.sign(Array(Self.checkpoint.body.utf8)))
    }
}

@Suite("Checkpoint consistency guard")
struct CheckpointConsistencyGuardTests {
    static let leaves = (0..<100).map { SHA256.leafHash(Array("e\($0)".utf8)) }
    static func head(_ size: Int) -> ConsistencyGuard.TreeHead {
        .init(size: UInt64(size), rootHash: MerkleTree.root(of: leaves[..<size]))
    }
    static func source(_ leaves: [[UInt8]]) -> (Range<UInt64>) -> [[UInt8]] {
        { Array(leaves[Int($0.lowerBound)..<Int($0.upperBound)]) }
    }

    @Test("extensions are consistent; shrinking, rewritten history and wrong roots are not")
    func verdicts() {
        let source = Self.source(Self.leaves)
        #expect(ConsistencyGuard.check(previous: Self.head(0), proposed: Self.head(100), leafHashes: source) == .consistent)
        #expect(ConsistencyGuard.check(previous: Self.head(37), proposed: Self.head(37), leafHashes: source) == .consistent)
        #expect(ConsistencyGuard.check(previous: Self.head(37), proposed: Self.head(64), leafHashes: source) == .consistent)
        #expect(ConsistencyGuard.check(previous: Self.head(64), proposed: Self.head(37), leafHashes: source)
            == .shrinks(previousSize: 64, proposedSize: 37))
        var rewritten = Self.leaves
        rewritten[10] = SHA256.leafHash(Array("forged".utf8))
        let verdict = ConsistencyGuard.check(previous: Self.head(37), proposed: .init(size: 64, rootHash: MerkleTree.root(of: rewritten[..<64])),
                                             leafHashes: Self.source(rewritten))
        #expect(verdict == .previousRootMismatch(size: 37, recomputed: MerkleTree.root(of: rewritten[..<37])))
        #expect(ConsistencyGuard.check(previous: Self.head(37), proposed: .init(size: 64, rootHash: Self.head(63).rootHash), leafHashes: source)
            == .proposedRootMismatch(size: 64, recomputed: Self.head(64).rootHash))
        #expect(ConsistencyGuard.check(previous: Self.head(37), proposed: .init(size: 37, rootHash: Self.head(36).rootHash), leafHashes: source)
            == .proposedRootMismatch(size: 37, recomputed: Self.head(37).rootHash))
    }

    @Test("from a persisted frontier, reading only the new leaves")
    func fromFrontier() throws {
        var frontier = MerkleFrontier()
        for leaf in Self.leaves[..<37] { frontier.append(leaf) }
        let stored = try MerkleFrontier(serialized: frontier.serialized)
        var asked: [Range<UInt64>] = []
        let verdict = ConsistencyGuard.check(previous: Self.head(37), frontier: stored, proposed: Self.head(100)) { range in
            asked.append(range)
            return Array(Self.leaves[Int(range.lowerBound)..<Int(range.upperBound)])
        }
        #expect(verdict == .consistent)
        #expect(asked == [37..<100])
        #expect(ConsistencyGuard.check(previous: Self.head(38), frontier: stored, proposed: Self.head(100), leafHashes: Self.source(Self.leaves))
            == .frontierMismatch(frontierSize: 37))
    }
}
