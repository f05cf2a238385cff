/// A field of an event named in the PII settings: `actor.user`, `actor.claims.email`,
/// `data.customer.ssn`, `tenant`. Only fields a caller supplies can be named; the chain's own
/// fields (action, outcome, timestamp) cannot be dropped or hashed.
public struct AuditFieldPath: Sendable, Hashable, CustomStringConvertible {
    public let components: [String]

    public init?(_ text: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard let first = parts.first, !parts.contains(where: \.isEmpty) else { return nil }
        switch first {
        case "tenant", "request_id", "target":
            guard parts.count == 1 else { return nil }
        case "actor":
            guard parts.count >= 2, ["user", "roles", "claims"].contains(parts[1]) else { return nil }
            if parts[1] != "claims" && parts.count != 2 { return nil }
            if parts[1] == "claims" && parts.count < 3 { return nil }
        case "data":
            guard parts.count >= 2 else { return nil }
        default:
            return nil
        }
        components = parts
    }

    public var description: String { components.joined(separator: ".") }

    /// Whether removing the field leaves a valid event (required fields can only be hashed).
    public var isDroppable: Bool { components != ["actor", "user"] && components != ["actor", "roles"] }
}
