/// Writes the JSON the connector hands the host (identities, sessions, flow starts). Object keys
/// come out in the order given; strings get the shortest escapes.
enum JSONWriter {
    static func write(_ value: JSONValue, to out: inout [UInt8]) {
        switch value {
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            for (index, member) in members.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                JSONText.appendString(member.key, to: &out)
                out.append(UInt8(ascii: ":"))
                write(member.value, to: &out)
            }
            out.append(UInt8(ascii: "}"))
        case .array(let elements):
            out.append(UInt8(ascii: "["))
            for (index, element) in elements.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                write(element, to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .string(let text): JSONText.appendString(text, to: &out)
        case .number(let text): out.append(contentsOf: text.utf8)
        case .bool(let flag): out.append(contentsOf: (flag ? "true" : "false").utf8)
        case .null: out.append(contentsOf: "null".utf8)
        }
    }

    static func bytes(_ value: JSONValue) -> [UInt8] {
        var out: [UInt8] = []
        write(value, to: &out)
        return out
    }

    /// An object of `members` and then `lastMember`, whose value is `rawJSON` copied as is:
    /// only for JSON text this connector has itself parsed successfully as a whole value.
    static func object(_ members: [(key: String, value: JSONValue)], lastMember: String, rawJSON: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(rawJSON.count + 64 * (members.count + 1))
        out.append(UInt8(ascii: "{"))
        for member in members {
            JSONText.appendString(member.key, to: &out)
            out.append(UInt8(ascii: ":"))
            write(member.value, to: &out)
            out.append(UInt8(ascii: ","))
        }
        JSONText.appendString(lastMember, to: &out)
        out.append(UInt8(ascii: ":"))
        out.append(contentsOf: rawJSON)
        out.append(UInt8(ascii: "}"))
        return out
    }
}

extension JSONValue {
    var string: String? {
        if case .string(let text) = self { return text }
        return nil
    }

    /// A JSON number as seconds since the epoch (NumericDate, RFC 7519 §2: fractions allowed,
    /// truncated here).
    var numericDate: Int64? {
        guard case .number(let text) = self else { return nil }
        if let whole = Int64(text) { return whole }
        return Double(text).flatMap { $0.isFinite && abs($0) < 1e15 ? Int64($0) : nil }
    }

    static func integer(_ value: Int64) -> JSONValue { .number(String(value)) }

    /// Follows a dotted claim path (`realm_access.roles`); a key containing a dot is matched whole
    /// first, as providers use URL-like claim names (`https://example.com/groups`).
    func claim(atPath path: String) -> JSONValue? {
        if let direct = member(path) { return direct }
        guard path.utf8.contains(UInt8(ascii: ".")) else { return nil }
        var current = self
        for part in path.split(separator: ".", omittingEmptySubsequences: false) {
            guard let next = current.member(String(part)) else { return nil }
            current = next
        }
        return current
    }
}
