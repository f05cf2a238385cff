import LaForgeCore

/// The event's RFC 8785 form written directly, key by key in their fixed canonical order,
/// instead of building a dictionary and sorting it: this is the per-event cost of ingest.
/// `canonicalBytes() == JSONCanonicalizer.canonicalize(jsonValue())` always (a test checks it on
/// random events); free-form parts (claims, data) go through the general canonicalizer.
extension AuditEvent {
    public func canonicalBytes() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256 + action.utf8.count + (target?.utf8.count ?? 0))
        // UTF-16 order of the keys: action, actor, artifact_hash, data, outcome, request_id,
        // target, tenant, timestamp; inside actor: claims, roles, user.
        append(#"{"action":"#, to: &out)
        JSONCanonicalizer.writeString(action, into: &out)
        append(#","actor":{"claims":"#, to: &out)
        JSONCanonicalizer.write(.object(actor.claims), into: &out)
        append(#","roles":["#, to: &out)
        for (index, role) in actor.roles.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            JSONCanonicalizer.writeString(role, into: &out)
        }
        append(#"],"user":"#, to: &out)
        JSONCanonicalizer.writeString(actor.user, into: &out)
        out.append(UInt8(ascii: "}"))
        if let artifactHash {
            append(#","artifact_hash":"#, to: &out)
            JSONCanonicalizer.writeString(artifactHash, into: &out)
        }
        append(#","data":"#, to: &out)
        JSONCanonicalizer.write(.object(data), into: &out)
        append(#","outcome":""#, to: &out)
        append(outcome.rawValue, to: &out)
        out.append(UInt8(ascii: "\""))
        if let requestID {
            append(#","request_id":"#, to: &out)
            JSONCanonicalizer.writeString(requestID, into: &out)
        }
        if let target {
            append(#","target":"#, to: &out)
            JSONCanonicalizer.writeString(target, into: &out)
        }
        if let tenant {
            append(#","tenant":"#, to: &out)
            JSONCanonicalizer.writeString(tenant, into: &out)
        }
        append(#","timestamp":""#, to: &out)
        timestamp.writeRFC3339(into: &out)
        append(#""}"#, to: &out)
        return out
    }
}

@inline(__always)
private func append(_ text: StaticString, to out: inout [UInt8]) {
    text.withUTF8Buffer { out.append(contentsOf: $0) }
}

@inline(__always)
private func append(_ text: String, to out: inout [UInt8]) {
    out.append(contentsOf: text.utf8)
}
