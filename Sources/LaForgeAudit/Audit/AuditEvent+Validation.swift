import LaForgeCore

extension AuditEvent {
    static let maximumStringLength = 1024
    static let maximumCanonicalBytes = 1 << 20

    /// Checks every field, so nothing malformed is ever chained (a chained entry can never be
    /// corrected, only superseded).
    public func validate() throws(AuditEventError) {
        try Self.checkText(actor.user, field: "actor.user")
        for (index, role) in actor.roles.enumerated() { try Self.checkText(role, field: "actor.roles[\(index)]") }
        guard Self.isValidAction(action) else {
            throw AuditEventError(
                field: "action",
                "\(quotedForMessage(action)) is not a dotted lower-case action like schema.change or rbac.grant")
        }
        if let tenant { try Self.checkText(tenant, field: "tenant") }
        if let requestID { try Self.checkText(requestID, field: "request_id") }
        if let target { try Self.checkText(target, field: "target") }
        if let artifactHash, !Self.isValidArtifactHash(artifactHash) {
            throw AuditEventError(field: "artifact_hash", "expected sha256:<64 lower-case hex digits>, got \(quotedForMessage(artifactHash))")
        }
        for (key, value) in actor.claims where !value.isFinite {
            throw AuditEventError(field: "actor.claims.\(key)", "numbers must be finite")
        }
        for (key, value) in data where !value.isFinite {
            throw AuditEventError(field: "data.\(key)", "numbers must be finite")
        }
    }

    package static func checkText(_ text: String, field: String) throws(AuditEventError) {
        guard !text.isEmpty else { throw AuditEventError(field: field, "must not be empty") }
        guard text.utf8.count <= maximumStringLength else {
            throw AuditEventError(field: field, "longer than \(maximumStringLength) bytes")
        }
        // C0 controls and DEL are single bytes in UTF-8 and never part of a longer sequence.
        // (Scanned over the contiguous bytes: the generic UTF8View walk costs several times more.)
        let isControl: (UInt8) -> Bool = { $0 < 0x20 || $0 == 0x7F }
        let hasControl = text.utf8.withContiguousStorageIfAvailable { $0.contains(where: isControl) }
            ?? text.utf8.contains(where: isControl)
        guard !hasControl else {
            throw AuditEventError(field: field, "must not contain control characters")
        }
    }

    static func isValidAction(_ action: String) -> Bool { isValidAction(action.utf8) }

    /// `isValidAction` on UTF-8 bytes (the NDJSON transcoder checks them in place).
    static func isValidAction(_ action: some Sequence<UInt8>) -> Bool {
        // At least two dot-separated parts, each starting with a-z, then a-z 0-9 _ -.
        var parts = 0
        var atPartStart = true
        var count = 0
        for byte in action {
            count += 1
            if byte == UInt8(ascii: ".") {
                if atPartStart { return false }
                atPartStart = true
                continue
            }
            let isLower = byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")
            if atPartStart {
                guard isLower else { return false }
                atPartStart = false
                parts += 1
            } else if !(isLower || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
                || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")) {
                return false
            }
        }
        return !atPartStart && parts >= 2 && count <= 128
    }

    static func isValidArtifactHash(_ text: String) -> Bool {
        let utf8 = text.utf8
        guard utf8.count == 71, text.hasPrefix("sha256:") else { return false }
        return utf8.dropFirst(7).allSatisfy { byte in
            (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "f"))
        }
    }
}

extension JSONValue {
    /// False for NaN or infinity anywhere inside (JSON cannot carry them).
    var isFinite: Bool {
        switch self {
        case .number(let number): return number.isFinite
        case .array(let items): return items.allSatisfy(\.isFinite)
        case .object(let members): return members.values.allSatisfy(\.isFinite)
        default: return true
        }
    }
}
