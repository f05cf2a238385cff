import LaForgeCore
import LaForgePlugins

/// The JSON form of an event: the object that is canonicalized (RFC 8785) into an entry, and
/// what `--json` / `--stdin` accept. Absent optional fields are left out, never `null`.
extension AuditEvent {
    public static let jsonKeys = [
        "actor", "action", "outcome", "timestamp", "tenant", "request_id", "target", "artifact_hash", "data",
    ]

    public func jsonValue() -> JSONValue {
        var object: [String: JSONValue] = [
            "actor": .object([
                "user": .string(actor.user),
                "roles": .array(actor.roles.map(JSONValue.string)),
                "claims": .object(actor.claims),
            ]),
            "action": .string(action),
            "outcome": .string(outcome.rawValue),
            "timestamp": .string(timestamp.description),
            "data": .object(data),
        ]
        if let tenant { object["tenant"] = .string(tenant) }
        if let requestID { object["request_id"] = .string(requestID) }
        if let target { object["target"] = .string(target) }
        if let artifactHash { object["artifact_hash"] = .string(artifactHash) }
        return .object(object)
    }

    /// Reads an event from its JSON form. `timestamp` defaults to now, `outcome` to success,
    /// `actor.roles`/`actor.claims`/`data` to empty; unknown keys are refused (a typo would
    /// otherwise silently drop a field from the permanent record).
    public init(json: JSONValue, line: Int? = nil) throws(AuditEventError) {
        func fail(_ field: String, _ message: String) -> AuditEventError { AuditEventError(field: field, message, line: line) }
        guard case .object(let object) = json else { throw fail("", "an event is a JSON object") }
        for key in object.keys where !Self.jsonKeys.contains(key) {
            let suggestion = closestMatch(to: key, in: Self.jsonKeys).map { " (did you mean \"\($0)\"?)" } ?? ""
            throw fail(key, "unknown field\(suggestion)")
        }
        func optionalString(_ key: String) throws(AuditEventError) -> String? {
            switch object[key] {
            case nil, .null?: return nil
            case .string(let text)?: return text
            case let other?: throw fail(key, "expected string, got \(other.typeName)")
            }
        }
        guard case .object(let actorObject)? = object["actor"] else {
            throw fail("actor", object["actor"] == nil ? "missing (an object with user, roles, claims)" : "expected object")
        }
        for key in actorObject.keys where !["user", "roles", "claims"].contains(key) {
            throw fail("actor.\(key)", "unknown field (actor has user, roles, claims)")
        }
        guard case .string(let user)? = actorObject["user"] else { throw fail("actor.user", "missing or not a string") }
        var roles: [String] = []
        switch actorObject["roles"] {
        case nil, .null?: break
        case .array(let items)?:
            for (index, item) in items.enumerated() {
                guard case .string(let role) = item else { throw fail("actor.roles[\(index)]", "expected string") }
                roles.append(role)
            }
        // A string is refused, not split or wrapped: the record would show an array that was
        // never sent.
        case .string(let single)?:
            throw fail("actor.roles", "expected an array of strings, got the string \(quotedForMessage(single)) (send [\(quotedForMessage(single))] if that is one role)")
        default: throw fail("actor.roles", "expected an array of strings")
        }
        var claims: [String: JSONValue] = [:]
        switch actorObject["claims"] {
        case nil, .null?: break
        case .object(let members)?: claims = members
        default: throw fail("actor.claims", "expected object")
        }
        guard let action = try optionalString("action") else { throw fail("action", "missing") }
        var outcome = AuditOutcome.success
        if let text = try optionalString("outcome") {
            guard let parsed = AuditOutcome(rawValue: text) else {
                throw fail("outcome", "expected one of \(AuditOutcome.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            outcome = parsed
        }
        var timestamp = AuditTimestamp.now()
        if let text = try optionalString("timestamp") {
            guard let parsed = AuditTimestamp(rfc3339: text) else {
                if AuditTimestamp.isLeapSecond(text) {
                    throw fail(
                        "timestamp",
                        "\(quotedForMessage(text)) is a leap second, which a UTC timestamp in microseconds since the epoch cannot hold "
                            + "(it was stored as the second before): send the time as your clock had it otherwise (…:59.999999Z or the next second)")
                }
                throw fail("timestamp", "expected RFC 3339 (2026-11-27T04:16:22.123456Z), got \(quotedForMessage(text))")
            }
            timestamp = parsed
        }
        var data: [String: JSONValue] = [:]
        switch object["data"] {
        case nil, .null?: break
        case .object(let members)?: data = members
        default: throw fail("data", "expected object")
        }
        self.init(
            actor: AuditActor(user: user, roles: roles, claims: claims), action: action, outcome: outcome,
            timestamp: timestamp, tenant: try optionalString("tenant"), requestID: try optionalString("request_id"),
            target: try optionalString("target"), artifactHash: try optionalString("artifact_hash"), data: data)
        do { try validate() } catch {
            var located = error
            located.line = line
            throw located
        }
    }
}
