/// The NDJSON line format of a FileSink file (docs/FILESINK.md):
///
///     <entry's canonical JSON bytes, verbatim>\n
///     {"checkpoint":"<note text as an RFC 8785 JSON string>"}\n
///
/// Entries are stored byte for byte so a verifier can recompute each leaf hash from the line.
enum RecordLine {
    private static let checkpointPrefix = Array(#"{"checkpoint":""#.utf8)
    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// Appends the checkpoint line for `note`, escaped per RFC 8785 §3.2.2.2: `"` and `\` and
    /// the control characters, with the short forms where JSON has them and `\u00xx` (lowercase
    /// hex) otherwise; everything else, non-ASCII included, verbatim.
    static func appendCheckpoint(_ note: UnsafeBufferPointer<UInt8>, to line: inout [UInt8]) {
        line.append(contentsOf: checkpointPrefix)
        for byte in note {
            if let letter = shortEscape(byte) {
                line.append(contentsOf: [UInt8(ascii: "\\"), letter])
            } else if byte < 0x20 {
                line.append(contentsOf: Array(#"\u00"#.utf8))
                line.append(contentsOf: [hexDigits[Int(byte >> 4)], hexDigits[Int(byte & 0x0F)]])
            } else {
                line.append(byte)
            }
        }
        line.append(UInt8(ascii: "\""))
        line.append(UInt8(ascii: "}"))
        line.append(UInt8(ascii: "\n"))
    }

    /// The letter after the backslash for the characters JSON has a two-character escape for.
    private static func shortEscape(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"): return byte
        case 0x08: return UInt8(ascii: "b")
        case 0x09: return UInt8(ascii: "t")
        case 0x0A: return UInt8(ascii: "n")
        case 0x0C: return UInt8(ascii: "f")
        case 0x0D: return UInt8(ascii: "r")
        default: return nil
        }
    }

    static func startsAsCheckpoint(_ line: [UInt8]) -> Bool { line.starts(with: checkpointPrefix) }

    /// What a stored line (without its newline) says about the records already in the file.
    enum Stored: Equatable {
        case entry(seq: UInt64)
        case checkpoint(size: UInt64)
        /// Not JSON, or an entry without a top-level unsigned integer `seq`, or a checkpoint
        /// whose note has no size line.
        case unreadable(String)
    }

    static func classify(_ line: [UInt8]) -> Stored {
        let value: JSONValue
        do {
            value = try JSONReader.parse(line)
        } catch {
            return .unreadable("not JSON (\(error.description))")
        }
        guard case .object(let members) = value else { return .unreadable("not a JSON object") }
        // A checkpoint line has exactly one member; an entry always has several (seq, prev_hash,
        // the event), so an event field named "checkpoint" cannot be mistaken for one.
        if members.count == 1, members[0].key == "checkpoint", case .string(let note) = members[0].value {
            guard let size = checkpointSize(note) else { return .unreadable("checkpoint note has no tree size line") }
            return .checkpoint(size: size)
        }
        guard let seq = value.member("seq")?.unsignedInteger else {
            return .unreadable("entry has no top-level unsigned integer \"seq\"")
        }
        return .entry(seq: seq)
    }

    /// The tree size of a C2SP tlog-checkpoint note: its second line (origin, size, root hash).
    static func checkpointSize(_ note: String) -> UInt64? {
        let lines = note.utf8.split(separator: UInt8(ascii: "\n"), maxSplits: 2, omittingEmptySubsequences: false)
        guard lines.count >= 2 else { return nil }
        return UInt64(String(decoding: lines[1], as: UTF8.self))
    }
}
