import Foundation
import LaForgeAudit
import LaForgeCore
import LaForgePlugins

/// The snapshot signing key and the keys snapshots verify under. Same rules as the checkpoint
/// key: development mode generates it on first use, production mode never does.
public struct SnapshotKeys: Sendable {
    public static let defaultKeyName = "laforge-snapshot"
    let config: LaForgeConfig

    public init(config: LaForgeConfig) { self.config = config }

    public var keyPath: String { AuditKeys(config: config).path(configured: config.snapshots.keyFile, defaultName: "snapshot") }

    /// The signer, plus a notice when it was just generated.
    public func signer() throws(SnapshotError) -> (Ed25519SigningKey, notice: String?) {
        do {
            return try AuditKeys(config: config).signer(
                at: keyPath, name: Self.defaultKeyName, purpose: "snapshot", setting: "snapshots.key_file")
        } catch {
            throw SnapshotError(error)
        }
    }

    /// The current signer's verifier key (from `.pub`, else the key file) and the retired keys of
    /// `snapshots.verifier_keys`, plus `extra`. Never generates anything.
    public func trustedKeys(extra: [Ed25519VerifierKey] = []) -> [Ed25519VerifierKey] {
        var keys: [Ed25519VerifierKey] = []
        if let text = try? String(contentsOfFile: keyPath + ".pub", encoding: .utf8), let key = try? Ed25519VerifierKey(parsing: text) {
            keys.append(key)
        } else if let key = try? Ed25519SigningKey(contentsOfFile: keyPath) {
            keys.append(key.verifierKey)
        }
        return keys + config.snapshots.verifierKeys + extra
    }
}
