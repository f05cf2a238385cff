import LaForgeCore

#if canImport(Glibc)
    import Glibc
#endif

/// Turns one NDJSON event line straight into the event's canonical bytes (RFC 8785), without
/// building an `AuditEvent`, its strings or its dictionaries: on `audit emit --stdin` those
/// allocations were most of the per-event cost. Used when no PII rule has to see the event.
///
/// Like `AuditEventDecoder` it never decides an error: anything unusual (an escape in a
/// string, an unknown or repeated key, a wrong type, an invalid value, a key outside the Basic
/// Multilingual Plane, malformed JSON) returns nil and the caller takes the general path, which
/// reports the precise error. For every line it accepts, the bytes equal
/// `AuditEvent(json: JSONParser.parse(line)).canonicalBytes()` (a test checks it on random input).
///
/// Why copying raw strings is canonical: without a backslash a JSON string holds no escape, and
/// its bytes are valid UTF-8 without `"`, `\` or C0 controls, which is exactly how RFC 8785
/// writes it. Why byte order sorts keys: for characters of the Basic Multilingual Plane, UTF-8
/// byte order equals UTF-16 code unit order (RFC 8785 §3.2.3); keys with 4-byte sequences step aside.
enum AuditEventTranscoder {
    /// Buffers reused from one line to the next (one per worker): `claims` and `data` are
    /// written before their place in the output is reached, and objects whose keys arrive out
    /// of order remember their members; fresh arrays for those were an allocation each, per event.
    struct Scratch {
        fileprivate var claims: [UInt8] = []
        fileprivate var data: [UInt8] = []
        fileprivate var roles: [Range<Int>] = []
        fileprivate var members: [(key: Range<Int>, bytes: Range<Int>)] = []

        init() {}
    }

    static func canonicalBody(_ line: UnsafeBufferPointer<UInt8>, scratch: inout Scratch) -> [UInt8]? {
        var reader = JSONByteReader(bytes: line)
        reader.exactNumbers = true  // a number that would change steps aside to the general path, which refuses it
        return try? transcodeEvent(&reader, &scratch)
    }

    static func canonicalBody(_ line: ArraySlice<UInt8>) -> [UInt8]? {
        var scratch = Scratch()
        return line.withUnsafeBufferPointer { canonicalBody($0, scratch: &scratch) }
    }

    /// A raw string's bytes in the line (quotes excluded).
    private typealias Raw = Range<Int>

    private static func transcodeEvent(_ reader: inout JSONByteReader, _ scratch: inout Scratch) throws -> [UInt8]? {
        var action: Raw?, user: Raw?
        scratch.roles.removeAll(keepingCapacity: true)
        var hasClaims = false, hasData = false
        var outcome = AuditOutcome.success
        var timestamp: AuditTimestamp?
        /// A timestamp already in canonical form, copied as it is.
        var canonicalTimestamp: Raw?
        var tenant: Raw?, requestID: Raw?, target: Raw?, artifactHash: Raw?
        var seen = FastPathMemberSet()
        let bytes = reader.bytes

        // Loops rather than closures over the members: captured variables would be boxed on
        // the heap and checked for exclusive access at run time, on every event.
        reader.skipWhitespace()
        guard reader.peek() == UInt8(ascii: "{") else { return nil }
        reader.index += 1
        reader.depth = 1  // as the general parser counts, so both refuse the same depths
        var more = MemberWalk()
        while let key = try more.next(&reader) {
            if matches(key, "actor", bytes) {
                try seen.first(0)
                reader.depth = 2
                guard reader.peek() == UInt8(ascii: "{") else { throw FastPathStepsAside() }
                reader.index += 1
                var actorSeen = FastPathMemberSet()
                var actorMore = MemberWalk()
                while let actorKey = try actorMore.next(&reader) {
                    if matches(actorKey, "user", bytes) {
                        try actorSeen.first(0)
                        user = try rawString(&reader)
                    } else if matches(actorKey, "roles", bytes) {
                        try actorSeen.first(1)
                        try rawStrings(&reader, into: &scratch.roles)
                    } else if matches(actorKey, "claims", bytes) {
                        try actorSeen.first(2)
                        hasClaims = try optionalObject(&reader, into: &scratch.claims, members: &scratch.members)
                    } else {
                        throw FastPathStepsAside()
                    }
                }
                reader.depth = 1
            } else if matches(key, "action", bytes) {
                try seen.first(1)
                action = try rawString(&reader)
            } else if matches(key, "outcome", bytes) {
                try seen.first(2)
                if let raw = try optionalRawString(&reader) {
                    guard let parsed = outcomes.first(where: { matches(raw, $0.name, bytes) }) else { throw FastPathStepsAside() }
                    outcome = parsed.outcome
                }
            } else if matches(key, "timestamp", bytes) {
                try seen.first(3)
                if let raw = try optionalRawString(&reader) {
                    if isCanonicalTimestamp(raw, bytes) {
                        canonicalTimestamp = raw
                    } else {
                        guard let parsed = AuditTimestamp(rfc3339: text(raw, bytes)) else { throw FastPathStepsAside() }
                        timestamp = parsed
                    }
                }
            } else if matches(key, "tenant", bytes) {
                try seen.first(4)
                tenant = try optionalRawString(&reader)
            } else if matches(key, "request_id", bytes) {
                try seen.first(5)
                requestID = try optionalRawString(&reader)
            } else if matches(key, "target", bytes) {
                try seen.first(6)
                target = try optionalRawString(&reader)
            } else if matches(key, "artifact_hash", bytes) {
                try seen.first(7)
                artifactHash = try optionalRawString(&reader)
            } else if matches(key, "data", bytes) {
                try seen.first(8)
                hasData = try optionalObject(&reader, into: &scratch.data, members: &scratch.members)
            } else {
                throw FastPathStepsAside()
            }
        }
        reader.skipWhitespace()
        guard reader.index == bytes.count, let action, let user else { return nil }

        // The checks of AuditEvent.validate(), on the raw bytes.
        guard isValidText(user, bytes) else { return nil }
        for role in scratch.roles where !isValidText(role, bytes) { return nil }
        for field in [tenant, requestID, target] {
            if let field, !isValidText(field, bytes) { return nil }
        }
        guard AuditEvent.isValidAction(UnsafeBufferPointer(rebasing: bytes[action])) else { return nil }
        if let artifactHash, !isValidArtifactHash(artifactHash, bytes) { return nil }

        // AuditEvent.canonicalBytes(), key by key in canonical order.
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + 64)
        write(#"{"action":"#, to: &out)
        write(action, bytes, to: &out)
        write(#","actor":{"claims":"#, to: &out)
        if hasClaims { out.append(contentsOf: scratch.claims) } else { write("{}", to: &out) }
        write(#","roles":["#, to: &out)
        for (index, role) in scratch.roles.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            write(role, bytes, to: &out)
        }
        write(#"],"user":"#, to: &out)
        write(user, bytes, to: &out)
        out.append(UInt8(ascii: "}"))
        if let artifactHash {
            write(#","artifact_hash":"#, to: &out)
            write(artifactHash, bytes, to: &out)
        }
        write(#","data":"#, to: &out)
        if hasData { out.append(contentsOf: scratch.data) } else { write("{}", to: &out) }
        write(#","outcome":""#, to: &out)
        out.append(contentsOf: outcome.rawValue.utf8)
        out.append(UInt8(ascii: "\""))
        if let requestID {
            write(#","request_id":"#, to: &out)
            write(requestID, bytes, to: &out)
        }
        if let target {
            write(#","target":"#, to: &out)
            write(target, bytes, to: &out)
        }
        if let tenant {
            write(#","tenant":"#, to: &out)
            write(tenant, bytes, to: &out)
        }
        write(#","timestamp":""#, to: &out)
        if let canonicalTimestamp {
            out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[canonicalTimestamp]))
        } else {
            (timestamp ?? .now()).writeRFC3339(into: &out)
        }
        write(#""}"#, to: &out)
        return out.count <= AuditEvent.maximumCanonicalBytes ? out : nil
    }

    // MARK: Members and strings

    /// Walks an object's members after its "{" (strict JSON: no trailing comma): `next` returns
    /// each key with the reader at its value, then nil with the reader after the "}".
    private struct MemberWalk {
        private var started = false

        mutating func next(_ reader: inout JSONByteReader) throws -> Raw? {
            reader.skipWhitespace()
            if started {
                switch reader.peek() {
                case UInt8(ascii: ","): reader.index += 1
                case UInt8(ascii: "}"):
                    reader.index += 1
                    return nil
                default: throw FastPathStepsAside()
                }
                reader.skipWhitespace()
            } else {
                started = true
                if reader.peek() == UInt8(ascii: "}") {
                    reader.index += 1
                    return nil
                }
            }
            let key = try rawString(&reader)
            reader.skipWhitespace()
            guard reader.peek() == UInt8(ascii: ":") else { throw FastPathStepsAside() }
            reader.index += 1
            reader.skipWhitespace()
            return key
        }
    }

    private static func matches(_ raw: Raw, _ name: StaticString, _ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        name.withUTF8Buffer { expected in
            expected.count == raw.count && memcmp(expected.baseAddress!, bytes.baseAddress! + raw.lowerBound, raw.count) == 0
        }
    }

    /// `AuditOutcome`'s raw values as static bytes (compared with memcmp, not through a String).
    private static let outcomes: [(name: StaticString, outcome: AuditOutcome)] = [
        ("success", .success), ("failure", .failure), ("denied", .denied),
    ]

    /// Whether a timestamp is exactly as `AuditTimestamp.writeRFC3339` would write it
    /// (`YYYY-MM-DDTHH:MM:SS.ffffffZ`, a date that exists, no leap second): then it is its own
    /// canonical form, and parsing and writing it again would only cost time.
    private static func isCanonicalTimestamp(_ raw: Raw, _ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard raw.count == 27 else { return false }
        let text = UnsafeBufferPointer(rebasing: bytes[raw])
        func number(_ start: Int, _ count: Int) -> Int? {
            var value = 0
            for byte in text[start..<(start + count)] {
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
            }
            return value
        }
        guard text[4] == UInt8(ascii: "-"), text[7] == UInt8(ascii: "-"), text[10] == UInt8(ascii: "T"),
              text[13] == UInt8(ascii: ":"), text[16] == UInt8(ascii: ":"), text[19] == UInt8(ascii: "."),
              text[26] == UInt8(ascii: "Z"),
              let year = number(0, 4), year >= 1000, let month = number(5, 2), (1...12).contains(month),
              let day = number(8, 2), let hour = number(11, 2), hour < 24, let minute = number(14, 2), minute < 60,
              let second = number(17, 2), second < 60, number(20, 6) != nil
        else { return false }
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
        let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
        return (1...days).contains(day)
    }

    private static func write(_ literal: StaticString, to out: inout [UInt8]) {
        literal.withUTF8Buffer { out.append(contentsOf: $0) }
    }

    /// A raw string, quoted: canonical as it is (see the type's comment).
    private static func write(_ raw: Raw, _ bytes: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[raw]))
        out.append(UInt8(ascii: "\""))
    }

    /// A string without escapes, validated as UTF-8 in place; the reader moves past it.
    private static func rawString(_ reader: inout JSONByteReader) throws -> Raw {
        guard reader.peek() == UInt8(ascii: "\"") else { throw FastPathStepsAside() }
        reader.index += 1
        let start = reader.index
        while true {
            reader.index = plainASCIIEnd(reader.bytes, from: reader.index)
            guard let byte = reader.peek() else { throw FastPathStepsAside() }
            if byte == UInt8(ascii: "\"") {
                reader.index += 1
                return start..<(reader.index - 1)
            } else if byte == UInt8(ascii: "\\") || byte < 0x20 {
                throw FastPathStepsAside()
            } else if byte < 0x80 {
                reader.index += 1
            } else {
                try reader.skipUTF8Sequence()
            }
        }
    }

    /// The end of the run of printable ASCII other than `"` and `\` starting at `index`,
    /// eight bytes at a time (bit tricks on a UInt64: the run is nearly every byte of a line).
    private static func plainASCIIEnd(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Int {
        var index = start
        guard let base = UnsafeRawPointer(bytes.baseAddress) else { return index }
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        while index + 8 <= bytes.count {
            let word = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: index, as: UInt64.self))
            // A byte's high bit is set in `special` if it is < 0x20, `"`, `\` or >= 0x80.
            let quote = word ^ (ones &* 0x22)
            let backslash = word ^ (ones &* 0x5C)
            let special = (word &- ones &* 0x20) | (quote &- ones) & ~quote | (backslash &- ones) & ~backslash | word
            if special & highs != 0 { break }
            index += 8
        }
        while index < bytes.count {
            let byte = bytes[index]
            if byte < 0x20 || byte >= 0x80 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { break }
            index += 1
        }
        return index
    }

    private static func optionalRawString(_ reader: inout JSONByteReader) throws -> Raw? {
        if reader.peek() == UInt8(ascii: "n") {
            _ = try reader.parseLiteral("null", .null)
            return nil
        }
        return try rawString(&reader)
    }

    /// `roles`: an array of strings or null (the general path also reads "a,b" strings).
    private static func rawStrings(_ reader: inout JSONByteReader, into items: inout [Raw]) throws {
        if reader.peek() == UInt8(ascii: "n") {
            _ = try reader.parseLiteral("null", .null)
            return
        }
        guard reader.peek() == UInt8(ascii: "[") else { throw FastPathStepsAside() }
        try reader.enterContainer()
        reader.index += 1
        reader.skipWhitespace()
        if reader.peek() == UInt8(ascii: "]") {
            reader.index += 1
            reader.depth -= 1
            return
        }
        while true {
            reader.skipWhitespace()
            items.append(try rawString(&reader))
            reader.skipWhitespace()
            switch reader.peek() {
            case UInt8(ascii: ","): reader.index += 1
            case UInt8(ascii: "]"):
                reader.index += 1
                reader.depth -= 1
                return
            default: throw FastPathStepsAside()
            }
        }
    }

    private static func text(_ raw: Raw, _ bytes: UnsafeBufferPointer<UInt8>) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: bytes[raw]), as: UTF8.self)
    }

    /// AuditEvent.isValidArtifactHash on raw bytes.
    private static func isValidArtifactHash(_ raw: Raw, _ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard raw.count == 71, matches(raw.lowerBound..<(raw.lowerBound + 7), "sha256:", bytes) else { return false }
        return bytes[(raw.lowerBound + 7)..<raw.upperBound].allSatisfy { byte in
            (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "f"))
        }
    }

    /// AuditEvent.checkText on raw bytes (which hold no C0 control: the reader refuses them raw).
    private static func isValidText(_ raw: Raw, _ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        !raw.isEmpty && raw.count <= AuditEvent.maximumStringLength && !bytes[raw].contains(0x7F)
    }

    // MARK: Free-form objects (claims, data)

    /// `claims`/`data`: writes an object's canonical bytes into `out` (emptied first); false for
    /// JSON null.
    private static func optionalObject(
        _ reader: inout JSONByteReader, into out: inout [UInt8], members: inout [(key: Raw, bytes: Range<Int>)]
    ) throws -> Bool {
        out.removeAll(keepingCapacity: true)
        if reader.peek() == UInt8(ascii: "n") {
            _ = try reader.parseLiteral("null", .null)
            return false
        }
        guard reader.peek() == UInt8(ascii: "{") else { throw FastPathStepsAside() }
        try writeValue(&reader, into: &out, members: &members)
        return true
    }

    /// Any JSON value, written canonically. `members` is scratch space for `writeObject`.
    private static func writeValue(
        _ reader: inout JSONByteReader, into out: inout [UInt8], members: inout [(key: Raw, bytes: Range<Int>)]
    ) throws {
        guard let byte = reader.peek() else { throw FastPathStepsAside() }
        switch byte {
        case UInt8(ascii: "{"): try writeObject(&reader, into: &out, members: &members)
        case UInt8(ascii: "["): try writeArray(&reader, into: &out, members: &members)
        case UInt8(ascii: "\""):
            let raw = try rawString(&reader)
            out.append(UInt8(ascii: "\""))
            out.append(contentsOf: UnsafeBufferPointer(rebasing: reader.bytes[raw]))
            out.append(UInt8(ascii: "\""))
        case UInt8(ascii: "t"), UInt8(ascii: "f"), UInt8(ascii: "n"):
            let start = reader.index
            switch byte {
            case UInt8(ascii: "t"): _ = try reader.parseLiteral("true", .bool(true))
            case UInt8(ascii: "f"): _ = try reader.parseLiteral("false", .bool(false))
            default: _ = try reader.parseLiteral("null", .null)
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: reader.bytes[start..<reader.index]))
        default:
            guard case .number(let number) = try reader.parseNumber() else { throw FastPathStepsAside() }
            JSONCanonicalizer.writeNumber(number, into: &out)
        }
    }

    private static func writeArray(
        _ reader: inout JSONByteReader, into out: inout [UInt8], members: inout [(key: Raw, bytes: Range<Int>)]
    ) throws {
        try reader.enterContainer()
        reader.index += 1
        out.append(UInt8(ascii: "["))
        reader.skipWhitespace()
        if reader.peek() != UInt8(ascii: "]") {
            while true {
                reader.skipWhitespace()
                try writeValue(&reader, into: &out, members: &members)
                reader.skipWhitespace()
                guard reader.peek() == UInt8(ascii: ",") else { break }
                reader.index += 1
                out.append(UInt8(ascii: ","))
            }
        }
        guard reader.peek() == UInt8(ascii: "]") else { throw FastPathStepsAside() }
        reader.index += 1
        reader.depth -= 1
        out.append(UInt8(ascii: "]"))
    }

    /// Members are written in place as they come; only when their keys arrive out of order is
    /// the object's body rearranged (producers often sort keys already, and copying every object
    /// through a scratch buffer was a large share of its cost). Its members are noted in
    /// `members` from `members.count` on (nested objects stack theirs above) and removed after.
    private static func writeObject(
        _ reader: inout JSONByteReader, into out: inout [UInt8], members: inout [(key: Raw, bytes: Range<Int>)]
    ) throws {
        try reader.enterContainer()
        reader.index += 1
        let bytes = reader.bytes
        out.append(UInt8(ascii: "{"))
        let bodyStart = out.count
        let first = members.count
        defer { members.removeSubrange(first...) }
        var inOrder = true
        var walk = MemberWalk()
        while let key = try walk.next(&reader) {
            // A 4-byte UTF-8 sequence (outside the BMP) would sort differently in UTF-16.
            if bytes[key].contains(where: { $0 >= 0xF0 }) { throw FastPathStepsAside() }
            if members.count > first {
                let previous = members[members.count - 1].key
                // An equal key is a duplicate: the general path refuses the document.
                if bytes[previous].elementsEqual(bytes[key]) { throw FastPathStepsAside() }
                if inOrder && !bytes[previous].lexicographicallyPrecedes(bytes[key]) { inOrder = false }
                out.append(UInt8(ascii: ","))
            }
            let start = out.count
            write(key, bytes, to: &out)
            out.append(UInt8(ascii: ":"))
            // Nested objects note their members above ours and remove them when done.
            try writeValue(&reader, into: &out, members: &members)
            members.append((key, start..<out.count))
        }
        reader.depth -= 1
        if !inOrder {
            let body = Array(out[bodyStart...])
            out.removeSubrange(bodyStart...)
            members[first...].sort { bytes[$0.key].lexicographicallyPrecedes(bytes[$1.key]) }
            for index in first..<members.count {
                let member = members[index]
                if index > first {
                    if bytes[members[index - 1].key].elementsEqual(bytes[member.key]) { throw FastPathStepsAside() }
                    out.append(UInt8(ascii: ","))
                }
                out.append(contentsOf: body[(member.bytes.lowerBound - bodyStart)..<(member.bytes.upperBound - bodyStart)])
            }
        }
        out.append(UInt8(ascii: "}"))
    }
}
