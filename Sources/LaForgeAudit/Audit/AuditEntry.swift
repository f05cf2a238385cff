import LaForgeCore
import LaForgeJournal

/// The chained entry: the bytes that are hashed, stored by the journal and every sink, and
/// verified by `laforge verify chain`:
///
///     {"chain":"<chain id>","event":<canonical event>,"prev_hash":"<64 hex>","seq":<n>,"v":1}
///
/// RFC 8785 orders those keys exactly so, which lets the entry be assembled by concatenation
/// under the journal lock from an event canonicalized beforehand (the expensive part stays off
/// the serialized path). hash = SHA-256(0x00 ‖ entry bytes), the RFC 6962 leaf hash.
public enum AuditEntry {
    public static let formatVersion = 1

    /// Assembles the canonical entry. `chainID` must be a valid chain id (no escaping needed).
    public static func bytes(chainID: String, event canonicalEvent: [UInt8], seq: UInt64, prevHash: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(canonicalEvent.count + chainID.utf8.count + 128)
        prevHash.withUnsafeBytes { append(entryPrefix(chainID: chainID), event: canonicalEvent, seq: seq, prevHash: $0, to: &out) }
        return out
    }

    /// `{"chain":"<chain id>","event":` — the part of every entry of a chain that never changes.
    public static func entryPrefix(chainID: String) -> [UInt8] {
        Array(#"{"chain":""#.utf8) + Array(chainID.utf8) + Array(#"","event":"#.utf8)
    }

    /// Appends the entry to `out` (the journal's linker: it runs on the sequential commit path,
    /// once per entry, so digits are written in place and nothing is allocated).
    public static func append(
        _ prefix: [UInt8], event canonicalEvent: [UInt8], seq: UInt64, prevHash: UnsafeRawBufferPointer,
        to out: inout [UInt8]
    ) {
        out.append(contentsOf: prefix)
        out.append(contentsOf: canonicalEvent)
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 14 + 64 + 8 + 20 + 7) { buffer in
            var count = 0
            func put(_ byte: UInt8) {
                buffer[count] = byte
                count += 1
            }
            for byte in #","prev_hash":""#.utf8 { put(byte) }
            for byte in prevHash {
                put(lowerHexDigits[Int(byte >> 4)])
                put(lowerHexDigits[Int(byte & 0x0F)])
            }
            for byte in #"","seq":"#.utf8 { put(byte) }
            var digitCount = 1
            var rest = seq / 10
            while rest > 0 {
                digitCount += 1
                rest /= 10
            }
            var value = seq
            for index in stride(from: count + digitCount - 1, through: count, by: -1) {
                buffer[index] = UInt8(ascii: "0") + UInt8(value % 10)
                value /= 10
            }
            count += digitCount
            for byte in #","v":1}"#.utf8 { put(byte) }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[0..<count]))
        }
    }

    /// An entry read back for verification.
    public struct Parsed: Sendable {
        public var chainID: String
        public var seq: UInt64
        public var prevHash: [UInt8]
        public var event: JSONValue
    }

    public struct FormatError: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    /// Parses entry bytes and checks they are exactly their own canonical form (any edit that
    /// keeps the JSON valid but changes the bytes is still caught by the hash; this catches
    /// entries that were never canonical).
    public static func parse(_ bytes: [UInt8]) throws(FormatError) -> Parsed {
        let value: JSONValue
        do { value = try JSONParser.parse(bytes) } catch { throw FormatError(description: "not valid JSON: \(error)") }
        guard case .object(let object) = value else { throw FormatError(description: "not a JSON object") }
        guard case .string(let chain)? = object["chain"] else { throw FormatError(description: "no chain") }
        guard case .number(let seqNumber)? = object["seq"], seqNumber >= 0, seqNumber == seqNumber.rounded(),
              seqNumber < 9_007_199_254_740_992
        else { throw FormatError(description: "no valid seq") }
        guard case .string(let prevHex)? = object["prev_hash"], let prev = [UInt8](hexString: prevHex), prev.count == 32
        else { throw FormatError(description: "no valid prev_hash") }
        guard let event = object["event"], case .object = event else { throw FormatError(description: "no event object") }
        guard object["v"] == .number(Double(formatVersion)), object.count == 5 else {
            throw FormatError(description: "unknown entry format (v must be 1 with exactly chain, event, prev_hash, seq, v)")
        }
        guard JSONCanonicalizer.canonicalize(value) == bytes else {
            throw FormatError(description: "not in RFC 8785 canonical form")
        }
        return Parsed(chainID: chain, seq: UInt64(seqNumber), prevHash: prev, event: event)
    }
}

extension AuditEntry {
    /// The fields verification needs, read from the fixed tail of the canonical form
    /// (`,"prev_hash":"<hex>","seq":<n>,"v":1}`) and the fixed head (`{"chain":"<id>",`)
    /// without parsing the event: verification hashes every byte anyway, so any edit is caught
    /// by the hash, and this keeps `verify chain` near raw SHA-256 speed.
    public static func link(_ bytes: [UInt8]) -> (seq: UInt64, prevHash: [UInt8], chainID: String)? {
        bytes.withUnsafeBytes { raw in
            link(raw).map { ($0.seq, $0.prevHash.bytes, String(decoding: raw[$0.chainID], as: UTF8.self)) }
        }
    }

    /// `link` on borrowed bytes, allocating nothing: the chain id is returned as the byte range
    /// it occupies in `bytes`, the prev_hash inline.
    static func link(_ bytes: UnsafeRawBufferPointer) -> Link? {
        let count = bytes.count
        guard count > 90, let base = bytes.baseAddress, Self.matches(base + count - 7, #","v":1}"#) else { return nil }
        var index = count - 8
        var seq: UInt64 = 0
        var multiplier: UInt64 = 1
        var digits = 0
        while index >= 0, digits < 19 {
            let digit = bytes[index] &- 48
            guard digit <= 9 else { break }
            seq += UInt64(digit) * multiplier
            multiplier &*= 10
            digits += 1
            index -= 1
        }
        // `","seq":` (8 bytes, the quote closes the hex), 64 hex digits, `,"prev_hash":"` (14).
        let hexEnd = index + 1 - 8
        let hexStart = hexEnd - 64
        guard digits > 0, hexStart - 14 >= 0, Self.matches(base + hexEnd, #"","seq":"#),
              Self.matches(base + hexStart - 14, #","prev_hash":""#),
              let prevHash = Self.decodeHash(base + hexStart)
        else { return nil }
        guard Self.matches(base, #"{"chain":""#) else { return nil }
        var quote = 10
        while quote < count, bytes[quote] != 0x22 { quote += 1 }
        guard quote < count else { return nil }
        return Link(seq: seq, prevHash: prevHash, chainID: 10..<quote)
    }

    struct Link {
        var seq: UInt64
        var prevHash: ChainHash
        /// The chain id's bytes within the entry.
        var chainID: Range<Int>
    }

    /// Whether the bytes at `pointer` are `literal`'s UTF-8 (the caller checked they are in range).
    @inline(__always)
    private static func matches(_ pointer: UnsafeRawPointer, _ literal: StaticString) -> Bool {
        let expected = UnsafeRawPointer(literal.utf8Start)
        var different: UInt8 = 0
        for offset in 0..<literal.utf8CodeUnitCount {
            different |= pointer.load(fromByteOffset: offset, as: UInt8.self) ^ expected.load(fromByteOffset: offset, as: UInt8.self)
        }
        return different == 0
    }

    /// 64 hex digits (either case) at `pointer` as 32 bytes; nil when any is not a hex digit.
    @inline(__always)
    private static func decodeHash(_ pointer: UnsafeRawPointer) -> ChainHash? {
        var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        let valid = withUnsafeMutableBytes(of: &words) { out in
            hexValues.withUnsafeBufferPointer { table in
                var invalid: UInt8 = 0
                for byte in 0..<32 {
                    let high = table[Int(pointer.load(fromByteOffset: 2 * byte, as: UInt8.self))]
                    let low = table[Int(pointer.load(fromByteOffset: 2 * byte + 1, as: UInt8.self))]
                    invalid |= high | low
                    out[byte] = high << 4 | low & 0x0F
                }
                return invalid & 0x10 == 0
            }
        }
        return valid ? ChainHash(w0: words.0, w1: words.1, w2: words.2, w3: words.3) : nil
    }

    /// Each byte's hex digit value, or 0x10 for a byte that is not a hex digit.
    private static let hexValues: [UInt8] = (0...255).map { byte -> UInt8 in
        switch UInt8(byte) {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt8(byte) - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): UInt8(byte) - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): UInt8(byte) - UInt8(ascii: "A") + 10
        default: 0x10
        }
    }
}

private let lowerHexDigits: [UInt8] = Array("0123456789abcdef".utf8)
