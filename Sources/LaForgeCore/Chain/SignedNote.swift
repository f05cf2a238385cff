import Foundation

/// The C2SP signed-note format (https://c2sp.org/signed-note), Ed25519 signatures only:
///
///     <text, one or more lines, each ending in \n>
///     <blank line>
///     — <key name> <base64(4-byte key id ‖ 64-byte signature)>\n     (one per signer)
///
/// The signature covers the text bytes exactly, final newline included. Parsing follows
/// golang.org/x/mod/sumdb/note, the reference implementation: UTF-8 without control characters
/// other than newline, the signatures start after the *last* blank line, at most 100 of them,
/// a trusted key may sign once, identical unknown lines count once.
public enum SignedNote {
    /// U+2014 EM DASH and a space: every signature line starts with these bytes.
    static let signaturePrefix: [UInt8] = Array("— ".utf8)
    static let maximumSignatures = 100

    /// The signed note for `text`, one signature line per signer in the given order.
    /// `text` must be a valid note text (non-empty, ending in a newline); checkpoint bodies are.
    static func sign(text: String, signers: [Ed25519SigningKey]) -> String {
        let message = Array(text.utf8)
        var note = text + "\n"
        for signer in signers {
            var blob = withUnsafeBytes(of: signer.verifierKey.keyID.bigEndian) { Array($0) }
            blob += signer.sign(message)
            note += "— \(signer.name) \(Data(blob).base64EncodedString())\n"
        }
        return note
    }

    /// The verified text of `note` and the trusted keys that signed it, in note order.
    ///
    /// Signatures by keys not in `verifiers` are skipped (a co-signer, or a key rotated out),
    /// but a line that names a trusted key (name and id) and does not verify is `.forged`.
    static func open(
        _ note: [UInt8], verifiers: [Ed25519VerifierKey]
    ) throws(CheckpointError) -> (text: ArraySlice<UInt8>, signers: [Ed25519VerifierKey]) {
        try checkCharacters(note)
        guard let split = lastBlankLine(note) else {
            throw .malformedNote(line: lineCount(note[...]) + 1, reason: "no blank line before the signatures")
        }
        let text = note[..<(split + 1)]  // through the text's final newline
        let signatureBlock = note[(split + 2)...]
        var lineNumber = lineCount(text) + 2  // the blank line sits between them
        guard !signatureBlock.isEmpty else {
            throw .malformedNote(line: lineNumber, reason: "a signed note needs at least one signature line")
        }
        guard signatureBlock.last == 0x0A else {
            throw .malformedNote(line: lineNumber + lineCount(signatureBlock), reason: "the last signature line does not end with a newline")
        }

        var trustedSigners: [Ed25519VerifierKey] = []
        var unknownSigners: [NoteSignerID] = []
        var seenUnknownLines = Set<ArraySlice<UInt8>>()
        var signatureCount = 0
        var rest = signatureBlock
        while let newline = rest.firstIndex(of: 0x0A) {
            let line = rest[rest.startIndex..<newline]
            rest = rest[(newline + 1)...]
            defer { lineNumber += 1 }
            let (signer, signature) = try parseSignatureLine(line, lineNumber: lineNumber)
            signatureCount += 1
            guard signatureCount <= maximumSignatures else {
                throw .malformedNote(line: lineNumber, reason: "more than \(maximumSignatures) signatures")
            }
            guard let key = verifiers.first(where: { $0.name == signer.name && $0.keyID == signer.keyID }) else {
                if seenUnknownLines.insert(line).inserted { unknownSigners.append(signer) }
                continue
            }
            guard !trustedSigners.contains(key) else {
                throw .malformedNote(line: lineNumber, reason: "a second signature by \(signer)")
            }
            guard key.isValidSignature(signature, for: Array(text)) else {
                throw .forged(keyName: key.name, keyID: key.keyID)
            }
            trustedSigners.append(key)
        }
        guard !trustedSigners.isEmpty else { throw .noKnownSignature(found: unknownSigners) }
        return (text, trustedSigners)
    }

    /// `— name base64`: the signer and the signature bytes after the key id.
    private static func parseSignatureLine(
        _ line: ArraySlice<UInt8>, lineNumber: Int
    ) throws(CheckpointError) -> (NoteSignerID, [UInt8]) {
        guard line.starts(with: signaturePrefix) else {
            throw .malformedNote(line: lineNumber, reason: "a signature line starts with \"— \" (U+2014 EM DASH, space)")
        }
        let fields = line.dropFirst(signaturePrefix.count)
        guard let space = fields.firstIndex(of: 0x20) else {
            throw .malformedNote(line: lineNumber, reason: "a signature line is \"— NAME BASE64\"")
        }
        let name = String(decoding: fields[..<space], as: UTF8.self)
        guard Ed25519VerifierKey.isValidKeyName(name) else {
            throw .malformedNote(line: lineNumber, reason: "key name \"\(name)\" is empty or contains a space or '+'")
        }
        let encoded = fields[(space + 1)...]
        guard !encoded.isEmpty, let blob = Data(base64Encoded: Data(encoded)), blob.count >= 5 else {
            throw .malformedNote(line: lineNumber, reason: "the signature is not base64 of a key id and a signature")
        }
        let bytes = [UInt8](blob)
        let keyID = bytes[0..<4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        return (NoteSignerID(name: name, keyID: keyID), Array(bytes[4...]))
    }

    /// Valid UTF-8, and no ASCII control character but newline (so no \r, no tab).
    private static func checkCharacters(_ note: [UInt8]) throws(CheckpointError) {
        var line = 1
        for (offset, byte) in note.enumerated() {
            if byte == 0x0A {
                line += 1
            } else if byte < 0x20 || byte == 0x7F {
                throw .malformedNote(line: line, reason: "control character 0x\(String(byte, radix: 16)) at byte \(offset) (only \\n may end a line)")
            }
        }
        guard String(validating: note, as: UTF8.self) != nil else {
            let valid = note.indices.last { String(validating: note[..<$0], as: UTF8.self) != nil } ?? 0
            throw .malformedNote(line: lineCount(note[..<valid]) + 1, reason: "the note is not valid UTF-8")
        }
    }

    /// Index of the first \n of the last "\n\n".
    private static func lastBlankLine(_ note: [UInt8]) -> Int? {
        var index = note.count - 2
        while index >= 0 {
            if note[index] == 0x0A && note[index + 1] == 0x0A { return index }
            index -= 1
        }
        return nil
    }

    private static func lineCount(_ bytes: ArraySlice<UInt8>) -> Int {
        bytes.reduce(0) { $1 == 0x0A ? $0 + 1 : $0 }
    }
}
