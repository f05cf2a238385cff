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
        out.append(contentsOf: #"{"chain":""#.utf8)
        out.append(contentsOf: chainID.utf8)
        out.append(contentsOf: #"","event":"#.utf8)
        out.append(contentsOf: canonicalEvent)
        out.append(contentsOf: #","prev_hash":""#.utf8)
        out.append(contentsOf: prevHash.hexString.utf8)
        out.append(contentsOf: #"","seq":"#.utf8)
        out.append(contentsOf: String(seq).utf8)
        out.append(contentsOf: #","v":1}"#.utf8)
        return out
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
        let tailSuffix = Array(#","v":1}"#.utf8)
        guard bytes.count > 90, bytes.suffix(tailSuffix.count).elementsEqual(tailSuffix) else { return nil }
        var index = bytes.count - tailSuffix.count - 1
        var seq: UInt64 = 0
        var multiplier: UInt64 = 1
        var digits = 0
        while index >= 0, bytes[index] >= 48, bytes[index] <= 57, digits < 19 {
            seq += UInt64(bytes[index] - 48) * multiplier
            multiplier *= 10
            digits += 1
            index -= 1
        }
        let seqKey = Array(#"","seq":"#.utf8)
        guard digits > 0, index + 1 >= seqKey.count,
              bytes[(index + 1 - seqKey.count)...index].elementsEqual(seqKey)
        else { return nil }
        let hexEnd = index + 1 - seqKey.count
        let hexStart = hexEnd - 64
        let prevKey = Array(#","prev_hash":""#.utf8)
        guard hexStart - prevKey.count >= 0, bytes[(hexStart - prevKey.count)..<hexStart].elementsEqual(prevKey),
              let prev = [UInt8](hexString: String(decoding: bytes[hexStart..<hexEnd], as: UTF8.self))
        else { return nil }
        let head = Array(#"{"chain":""#.utf8)
        guard bytes.starts(with: head), let quote = bytes[head.count...].firstIndex(of: 0x22) else { return nil }
        return (seq, prev, String(decoding: bytes[head.count..<quote], as: UTF8.self))
    }
}
