/// Why a checkpoint could not be built or opened. Each case says what to look at; `open`
/// reports the first problem in the order: note structure, signatures, body, origin, so an
/// edited body is always reported as `.forged`, never as a parse error of the edited text.
public enum CheckpointError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The note does not follow C2SP signed-note (line is 1-based over the whole note).
    case malformedNote(line: Int, reason: String)
    /// No signature line is from a trusted key; `found` lists every signer named in the note.
    case noKnownSignature(found: [NoteSignerID])
    /// A signature line names a trusted key (name and id match) but does not verify: the body
    /// was changed after signing, or the line was fabricated.
    case forged(keyName: String, keyID: UInt32)
    /// Signed, but by this log's keys for another log.
    case originMismatch(expected: String, found: String)
    case unparsableSize(String)
    case unparsableRootHash(String)
    /// A checkpoint field that cannot be written (empty origin, newline in a line, …).
    case invalidField(String)

    public var description: String {
        switch self {
        case .malformedNote(let line, let reason):
            "malformed signed note, line \(line): \(reason)"
        case .noKnownSignature(let found):
            found.isEmpty
                ? "the checkpoint has no signature"
                : "the checkpoint is not signed by a trusted key; it is signed by \(found.map(\.description).joined(separator: ", "))"
        case .forged(let keyName, let keyID):
            "forged checkpoint: the signature by trusted key \(keyName)+\(NoteSignerID.hex(keyID)) does not match its content"
        case .originMismatch(let expected, let found):
            "the checkpoint is for log \"\(found)\", expected \"\(expected)\""
        case .unparsableSize(let text):
            "checkpoint tree size \"\(text)\" is not a decimal number without leading zeros"
        case .unparsableRootHash(let text):
            "checkpoint root hash \"\(text)\" is not the base64 of a 32-byte hash"
        case .invalidField(let reason):
            "invalid checkpoint: \(reason)"
        }
    }
}

/// A signer as a note names it: key name and 4-byte key id (C2SP signed-note).
public struct NoteSignerID: Equatable, Hashable, Sendable, CustomStringConvertible {
    public var name: String
    public var keyID: UInt32

    public init(name: String, keyID: UInt32) {
        self.name = name
        self.keyID = keyID
    }

    /// `name+keyid` as in the verifier key text.
    public var description: String { "\(name)+\(Self.hex(keyID))" }

    static func hex(_ keyID: UInt32) -> String {
        let digits = String(keyID, radix: 16)
        return String(repeating: "0", count: 8 - digits.count) + digits
    }
}
