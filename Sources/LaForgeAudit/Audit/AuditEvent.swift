import LaForgeCore
import LaForgePlugins

public enum AuditOutcome: String, Sendable, CaseIterable {
    case success, failure, denied
}

/// One audit event, as the compiler, generated services and the CLI record it. `validate()`
/// (called by `AuditLog.emit`) checks every field; its JSON form is what gets canonicalized and
/// chained (docs/AUDIT.md shows it).
public struct AuditEvent: Sendable, Equatable {
    public var actor: AuditActor
    /// Dotted, lower case: `schema.change`, `migration.apply`, `rbac.grant`, `approval.record`.
    public var action: String
    public var outcome: AuditOutcome
    public var timestamp: AuditTimestamp
    public var tenant: String?
    public var requestID: String?
    /// What was acted on: a schema, a migration id, a policy, a branch.
    public var target: String?
    /// `sha256:<64 hex>` of the artifact involved (schema file, migration SQL, bundle).
    public var artifactHash: String?
    /// Free structured details; a JSON object.
    public var data: [String: JSONValue]

    public init(
        actor: AuditActor, action: String, outcome: AuditOutcome = .success, timestamp: AuditTimestamp = .now(),
        tenant: String? = nil, requestID: String? = nil, target: String? = nil, artifactHash: String? = nil,
        data: [String: JSONValue] = [:]
    ) {
        self.actor = actor
        self.action = action
        self.outcome = outcome
        self.timestamp = timestamp
        self.tenant = tenant
        self.requestID = requestID
        self.target = target
        self.artifactHash = artifactHash
        self.data = data
    }

    /// Actions the runtime itself records (dead letters, key events); others are the caller's.
    public static let knownActionPrefixes = [
        "schema.", "migration.", "policy.", "rbac.", "approval.", "snapshot.", "timeline.", "branch.",
        "deploy.", "secret.", "audit.", "auth.", "serve.",
    ]
}
