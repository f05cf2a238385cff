import LaForgeCore
import LaForgePlugins

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
            reader.exactNumbers = true  // a number that would change steps aside to the general path, which refuses it
            return try? decodeEvent(&reader)
        }
    }


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
        var seen = FastPathMemberSet()

        reader.skipWhitespace()
        guard reader.peek() == UInt8(ascii: "{") else { return nil }
        reader.index += 1
        // Nesting is counted as the general parser does (the event object is level 1), so both
        // paths refuse the same depths.
        reader.depth = 1
        try forEachMember(&reader) { key, reader in
            switch key {
            case "actor":
                try seen.first(0)
                reader.depth = 2
                actor = try decodeActor(&reader)
                reader.depth = 1
            case "action":
                try seen.first(1)
                action = try requiredString(&reader)
            case "outcome":
                try seen.first(2)
                if let text = try optionalString(&reader) {
                    guard let parsed = AuditOutcome(rawValue: text) else { throw FastPathStepsAside() }
                    outcome = parsed
                }
            case "timestamp":
                try seen.first(3)
                if let text = try optionalString(&reader) {
                    guard let parsed = AuditTimestamp(rfc3339: text) else { throw FastPathStepsAside() }
                    timestamp = parsed
                }
            case "tenant":
                try seen.first(4)
                tenant = try optionalString(&reader)
            case "request_id":
                try seen.first(5)
                requestID = try optionalString(&reader)
            case "target":
                try seen.first(6)
                target = try optionalString(&reader)
            case "artifact_hash":
                try seen.first(7)
                artifactHash = try optionalString(&reader)
            case "data":
                try seen.first(8)
                data = try optionalObject(&reader)
            default: throw FastPathStepsAside()
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
        guard reader.peek() == UInt8(ascii: "{") else { throw FastPathStepsAside() }
        reader.index += 1
        var user: String?
        var roles: [String] = []
        var claims: [String: JSONValue] = [:]
        var seen = FastPathMemberSet()
        try forEachMember(&reader) { key, reader in
            switch key {
            case "user":
                try seen.first(0)
                user = try requiredString(&reader)
            case "roles":
                try seen.first(1)
                switch try reader.parseValue() {
                case .null: break
                case .array(let items):
                    roles = try items.map { item in
                        guard case .string(let role) = item else { throw FastPathStepsAside() }
                        return role
                    }
                default: throw FastPathStepsAside()  // the general path also reads "a,b" strings
                }
            case "claims":
                try seen.first(2)
                claims = try optionalObject(&reader)
            default: throw FastPathStepsAside()
            }
        }
        guard let user else { throw FastPathStepsAside() }
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
            guard reader.peek() == UInt8(ascii: "\"") else { throw FastPathStepsAside() }
            let key = try reader.parseString()
            reader.skipWhitespace()
            guard reader.peek() == UInt8(ascii: ":") else { throw FastPathStepsAside() }
            reader.index += 1
            reader.skipWhitespace()
            try body(key, &reader)
            reader.skipWhitespace()
            switch reader.peek() {
            case UInt8(ascii: ","): reader.index += 1
            case UInt8(ascii: "}"):
                reader.index += 1
                return
            default: throw FastPathStepsAside()
            }
        }
    }

    private static func requiredString(_ reader: inout JSONByteReader) throws -> String {
        guard reader.peek() == UInt8(ascii: "\"") else { throw FastPathStepsAside() }
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
        default: throw FastPathStepsAside()
        }
    }
}
