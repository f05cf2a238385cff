import Foundation
import LaForgeCore

/// The `approvals:` section: when a snapshot counts as approved for deployment, and whose
/// signatures an approval may carry. docs/SNAPSHOTS.md explains how approvals are tallied.
public struct ApprovalPolicy: Sendable {
    /// A key allowed to sign approvals, bound to the user it speaks for and (optionally) the
    /// roles that user may approve with.
    public struct TrustedApprover: Sendable {
        public var user: String
        /// nil: the roles the approval claims; a list: only those of the claimed roles in it.
        public var roles: [String]?
        public var key: Ed25519VerifierKey

        public init(user: String, roles: [String]?, key: Ed25519VerifierKey) {
            self.user = user
            self.roles = roles
            self.key = key
        }
    }

    /// Approvals needed.
    public var quorum = 1
    /// Count each approver (user, and key for signed approvals) once, by their latest decision.
    public var distinctSigners = true
    /// Each role needs at least one counted approval by someone acting with it.
    public var requiredRoles: [String] = []
    /// A standing rejection blocks the snapshot whatever the approvals.
    public var rejectionBlocks = true
    /// Whether the snapshot's own signer may approve it (four-eyes principle when false).
    public var selfApproval = false
    /// Only signed approvals by `trustedApprovers` count. nil: true in production mode, false in
    /// development mode.
    public var requireSigned: Bool?
    public var trustedApprovers: [TrustedApprover] = []
    /// Who acts when the CLI is given no `--actor` (until identity comes from the IdP).
    public var actor: AuditActor?
    /// The key `--sign` uses when the CLI is given no `--key`; relative to the config's folder.
    public var keyFile: String?

    public init() {}

    static let keys = [
        "quorum", "distinct_signers", "required_roles", "rejection_blocks", "self_approval", "require_signed",
        "trusted_keys", "actor", "key_file",
    ]

    static func decode(_ value: ConfigValue?, baseDirectory: String) throws(ConfigError) -> ApprovalPolicy {
        var policy = ApprovalPolicy()
        guard let value else { return policy }
        let section = try value.mapping()
        try section.rejectUnknownKeys(keys)
        if let v = section.optional("quorum") { policy.quorum = try v.int(in: 0...1000) }
        if let v = section.optional("distinct_signers") { policy.distinctSigners = try v.bool() }
        if let v = section.optional("required_roles") { policy.requiredRoles = try v.sequence().map { r throws(ConfigError) in try r.nonEmptyString() } }
        if let v = section.optional("rejection_blocks") { policy.rejectionBlocks = try v.bool() }
        if let v = section.optional("self_approval") { policy.selfApproval = try v.bool() }
        if let v = section.optional("require_signed") { policy.requireSigned = try v.bool() }
        if let v = section.optional("key_file") { policy.keyFile = try v.nonEmptyString() }
        if let v = section.optional("actor") {
            let actor = try v.mapping()
            try actor.rejectUnknownKeys(["user", "roles"])
            let user = try actor.required("user").nonEmptyString()
            let roles = try actor.optional("roles")?.sequence().map { r throws(ConfigError) in try r.nonEmptyString() } ?? []
            policy.actor = AuditActor(user: user, roles: roles)
        }
        if let list = section.optional("trusted_keys") {
            var seen: [UInt32: SourceMark] = [:]
            for item in try list.sequence() {
                let entry = try item.mapping()
                try entry.rejectUnknownKeys(["user", "roles", "key", "key_file"])
                let user = try entry.required("user").nonEmptyString()
                let roles = try entry.optional("roles")?.sequence().map { r throws(ConfigError) in try r.nonEmptyString() }
                let key: Ed25519VerifierKey
                switch (entry.optional("key"), entry.optional("key_file")) {
                case (let inline?, nil):
                    key = try inline.verifierKey()
                case (nil, let file?):
                    key = try file.verifierKeyFile(baseDirectory: baseDirectory)
                case (_?, let file?):
                    throw ConfigError(.invalidValue, at: file.mark, path: file.path, "give either key or key_file, not both")
                case (nil, nil):
                    throw ConfigError(
                        .missingKey, at: entry.mark, path: entry.path,
                        "missing required key \"key\" (a verifier key NAME+KEYID+BASE64) or \"key_file\" (a .pub file)")
                }
                if let first = seen[key.keyID] {
                    throw ConfigError(
                        .duplicate, at: item.mark, path: item.path, "the key \(key) is already trusted at \(first)", firstMark: first)
                }
                seen[key.keyID] = item.mark
                policy.trustedApprovers.append(TrustedApprover(user: user, roles: roles, key: key))
            }
        }
        return policy
    }

    /// `requireSigned` with its mode-dependent default applied.
    public func signedOnly(mode: LaForgeConfig.Mode) -> Bool {
        requireSigned ?? (mode == .production)
    }
}

extension ConfigValue {
    /// A `.pub` file (`laforge keys generate` writes it); relative to the config's folder.
    func verifierKeyFile(baseDirectory: String) throws(ConfigError) -> Ed25519VerifierKey {
        let path = try nonEmptyString()
        let resolved = path.hasPrefix("/") ? path : (baseDirectory as NSString).appendingPathComponent(path)
        let bytes: [UInt8]
        do { bytes = try readRegularFile(atPath: resolved, limit: 4096) } catch {
            throw ConfigError(.io, at: mark, path: self.path, "cannot read \(resolved): \(error.reason)")
        }
        do throws(KeyFormatError) { return try Ed25519VerifierKey(parsing: String(decoding: bytes, as: UTF8.self)) } catch {
            throw ConfigError(.invalidValue, at: mark, path: self.path, "\(resolved): \(error.message)")
        }
    }
}
