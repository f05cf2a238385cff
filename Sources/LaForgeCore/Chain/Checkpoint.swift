import Foundation

/// A C2SP tlog-checkpoint (https://c2sp.org/tlog-checkpoint): the signed statement "the log
/// `origin` has `size` entries and this Merkle root". The body is
///
///     <origin>\n<size, decimal>\n<base64(root hash)>\n[<extension line>\n]*
///
/// and it travels as a signed note (`SignedNote`). The audit log signs one every N entries or
/// T ms instead of signing entries (DESIGN.md §4).
public struct Checkpoint: Equatable, Sendable {
    /// The log's identity, conventionally a schema-less URL (`laforge.example/audit/prod`).
    public let origin: String
    public let size: UInt64
    /// The RFC 6962 root of the first `size` leaves (32 bytes).
    public let rootHash: [UInt8]
    /// Optional lines after the root, opaque to this type.
    public let extensions: [String]

    public init(origin: String, size: UInt64, rootHash: [UInt8], extensions: [String] = []) throws(CheckpointError) {
        guard Self.isValidLine(origin) else {
            throw .invalidField("the origin must be a non-empty line without control characters, got \"\(origin)\"")
        }
        guard rootHash.count == SHA256.digestCount else {
            throw .invalidField("the root hash is 32 bytes, got \(rootHash.count)")
        }
        for line in extensions where !Self.isValidLine(line) {
            throw .invalidField("an extension line must be non-empty without control characters, got \"\(line)\"")
        }
        self.origin = origin
        self.size = size
        self.rootHash = rootHash
        self.extensions = extensions
    }

    /// The checkpoint body, the exact text the signatures cover.
    public var body: String {
        var text = "\(origin)\n\(size)\n\(Data(rootHash).base64EncodedString())\n"
        for line in extensions { text += line + "\n" }
        return text
    }

    /// The signed note: the body, a blank line, one `— name base64(keyid ‖ sig)` line per signer.
    public func signedNote(signers: [Ed25519SigningKey]) -> String {
        precondition(!signers.isEmpty, "a checkpoint needs at least one signer")
        return SignedNote.sign(text: body, signers: signers)
    }

    /// Verifies and parses a signed checkpoint note.
    ///
    /// At least one signature must be by a key in `verifiers` (a key is known by name and key
    /// id, so old and new keys can be listed together through a rotation); a signature by a key
    /// in `verifiers` that fails is `.forged` even if another one verifies. Signatures by other
    /// keys are ignored. `signedBy` names the verifying keys in note order.
    public static func open(
        note: String, verifiers: [Ed25519VerifierKey], expectedOrigin: String?
    ) throws(CheckpointError) -> (Checkpoint, signedBy: [String]) {
        try open(note: Array(note.utf8), verifiers: verifiers, expectedOrigin: expectedOrigin)
    }

    /// `open` on the note's bytes as stored, so invalid UTF-8 is refused rather than repaired.
    public static func open(
        note: [UInt8], verifiers: [Ed25519VerifierKey], expectedOrigin: String?
    ) throws(CheckpointError) -> (Checkpoint, signedBy: [String]) {
        let (text, signers) = try SignedNote.open(note, verifiers: verifiers)
        let checkpoint = try parse(body: text)
        if let expectedOrigin, checkpoint.origin != expectedOrigin {
            throw .originMismatch(expected: expectedOrigin, found: checkpoint.origin)
        }
        return (checkpoint, signers.map(\.name))
    }

    /// Parses a verified body; `text` ends with a newline (SignedNote guarantees it).
    static func parse(body text: ArraySlice<UInt8>) throws(CheckpointError) -> Checkpoint {
        let lines = text.dropLast().split(separator: 0x0A, omittingEmptySubsequences: false)
            .map { String(decoding: $0, as: UTF8.self) }
        guard lines.count >= 3 else {
            throw .malformedNote(line: lines.count + 1, reason: "a checkpoint body has an origin, a size and a root hash line")
        }
        guard let size = parseSize(lines[1]) else { throw .unparsableSize(lines[1]) }
        guard let root = Data(base64Encoded: lines[2]), root.count == SHA256.digestCount,
            root.base64EncodedString() == lines[2]
        else { throw .unparsableRootHash(lines[2]) }
        for (offset, line) in lines.enumerated().dropFirst(3) where line.isEmpty {
            throw .malformedNote(line: offset + 1, reason: "empty extension line in the checkpoint body")
        }
        do {
            return try Checkpoint(origin: lines[0], size: size, rootHash: [UInt8](root), extensions: Array(lines[3...]))
        } catch .invalidField {
            throw .malformedNote(line: 1, reason: "the origin line is empty")
        }
    }

    /// ASCII decimal, no sign, no leading zeros (the spec's canonical form), fits in 64 bits.
    private static func parseSize(_ text: String) -> UInt64? {
        let digits = Array(text.utf8)
        guard !digits.isEmpty, digits.allSatisfy({ (0x30...0x39).contains($0) }),
            digits.count == 1 || digits[0] != 0x30
        else { return nil }
        return UInt64(text)
    }

    private static func isValidLine(_ line: String) -> Bool {
        !line.isEmpty && !line.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F }
    }
}
