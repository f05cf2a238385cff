/// Decodes one NDJSON event line straight into an `AuditEvent` on the common path, without the
/// intermediate dictionaries of the event and its actor — the largest per-event cost of
/// `audit emit --stdin`. Anything unusual (an unknown or repeated key, a wrong type, an invalid
/// value, malformed JSON) returns nil, and the caller takes the general path
/// (`JSONParser` + `AuditEvent(json:)`), which produces the precise error message. So the
/// decoder never decides an error, and for every line it accepts it yields exactly the event the
/// general path would (a test checks both on random input).
enum AuditEventDecoder {
    static func decode(_ line: ArraySlice<UInt8>) -> AuditEvent? {
        line.withUnsafeBufferPointer { buffer in
            var reader = JSONByteReader(bytes: buffer)
            return try? decodeEvent(&reader)
        }
    }

    private struct Unusual: Error {}

    private static func decodeEvent(_ reader: inout JSONByteReader) throws -> AuditEvent? {
        var actor: AuditActor?
        var action: String?
        var outcome = AuditOutcome.success
        var timestamp: AuditTimestamp?
        var tenant: String?
        var requestID: String?
        var target: String?
        var artifactHash: String?
        var data: [String: JSONValue] = [:]
        var seen = Set<String>()

        reader.skipWhitespace()
        guard reader.peek() == UInt8(ascii: "{") else { return nil }
        reader.index += 1
        // Nesting is counted as the general parser does (the event object is level 1), so both
        // paths refuse the same depths.
        reader.depth = 1
        try forEachMember(&reader) { key, reader in
            guard seen.insert(key).inserted else { throw Unusual() }
            switch key {
            case "actor":
                reader.depth = 2
                actor = try decodeActor(&reader)
                reader.depth = 1
            case "action": action = try requiredString(&reader)
            case "outcome":
                if let text = try optionalString(&reader) {
                    guard let parsed = AuditOutcome(rawValue: text) else { throw Unusual() }
                    outcome = parsed
                }
            case "timestamp":
                if let text = try optionalString(&reader) {
                    guard let parsed = AuditTimestamp(rfc3339: text) else { throw Unusual() }
                    timestamp = parsed
                }
            case "tenant": tenant = try optionalString(&reader)
            case "request_id": requestID = try optionalString(&reader)
            case "target": target = try optionalString(&reader)
            case "artifact_hash": artifactHash = try optionalString(&reader)
            case "data": data = try optionalObject(&reader)
            default: throw Unusual()
            }
        }
        reader.skipWhitespace()
        guard reader.index == reader.bytes.count, let actor, let action else { return nil }
        let event = AuditEvent(
            actor: actor, action: action, outcome: outcome, timestamp: timestamp ?? .now(), tenant: tenant,
            requestID: requestID, target: target, artifactHash: artifactHash, data: data)
        do { try event.validate() } catch { return nil }
        return event
    }

    private static func decodeActor(_ reader: inout JSONByteReader) throws -> AuditActor {
        guard reader.peek() == UInt8(ascii: "{") else { throw Unusual() }
        reader.index += 1
        var user: String?
        var roles: [String] = []
        var claims: [String: JSONValue] = [:]
        var seen = Set<String>()
        try forEachMember(&reader) { key, reader in
            guard seen.insert(key).inserted else { throw Unusual() }
            switch key {
            case "user": user = try requiredString(&reader)
            case "roles":
                switch try reader.parseValue() {
                case .null: break
                case .array(let items):
                    roles = try items.map { item in
                        guard case .string(let role) = item else { throw Unusual() }
                        return role
                    }
                default: throw Unusual()  // the general path also reads "a,b" strings
                }
            case "claims": claims = try optionalObject(&reader)
            default: throw Unusual()
            }
        }
        guard let user else { throw Unusual() }
        return AuditActor(user: user, roles: roles, claims: claims)
    }

    /// Walks an object's members after its "{" (strict JSON: no trailing comma), leaving the
    /// reader after the "}". `body` reads each member's value.
    private static func forEachMember(
        _ reader: inout JSONByteReader, _ body: (String, inout JSONByteReader) throws -> Void
    ) throws {
        reader.skipWhitespace()
        if reader.peek() == UInt8(ascii: "}") {
            reader.index += 1
            return
        }
        while true {
            reader.skipWhitespace()
            guard reader.peek() == UInt8(ascii: "\"") else { throw Unusual() }
            let key = try reader.parseString()
            reader.skipWhitespace()
            guard reader.peek() == UInt8(ascii: ":") else { throw Unusual() }
            reader.index += 1
            reader.skipWhitespace()
            try body(key, &reader)
            reader.skipWhitespace()
            switch reader.peek() {
            case UInt8(ascii: ","): reader.index += 1
            case UInt8(ascii: "}"):
                reader.index += 1
                return
            default: throw Unusual()
            }
        }
    }

    private static func requiredString(_ reader: inout JSONByteReader) throws -> String {
        guard reader.peek() == UInt8(ascii: "\"") else { throw Unusual() }
        return try reader.parseString()
    }

    private static func optionalString(_ reader: inout JSONByteReader) throws -> String? {
        if reader.peek() == UInt8(ascii: "n") {
            _ = try reader.parseLiteral("null", .null)
            return nil
        }
        return try requiredString(&reader)
    }

    private static func optionalObject(_ reader: inout JSONByteReader) throws -> [String: JSONValue] {
        switch try reader.parseValue() {
        case .null: return [:]
        case .object(let members): return members
        default: throw Unusual()
        }
    }
}
