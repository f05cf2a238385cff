import CSodium
import Foundation
import LaForgeCore
import LaForgePlugins

/// Finds (or, in development mode, creates) the keys the audit trail needs: the checkpoint
/// signing key and the PII HMAC key. Production never generates a key: a key nobody backed up
/// is a log nobody can verify.
package struct AuditKeys {
    let config: LaForgeConfig

    package init(config: LaForgeConfig) { self.config = config }

    /// A configured path is relative to the configuration file's folder; the default lives in
    /// the state directory.
    package func path(configured: String?, defaultName: String) -> String {
        if let configured {
            if configured.hasPrefix("/") { return configured }
            let folder = (config.sourcePath as NSString).deletingLastPathComponent
            return ((folder.isEmpty ? "." : folder) as NSString).appendingPathComponent(configured)
        }
        return (config.stateDir as NSString).appendingPathComponent("keys/\(defaultName)")
    }

    /// `laforge config validate`: whether this configuration can record. In production the
    /// checkpoint signing key must already exist (and unwrap, when a KMS wraps it), since emit
    /// would refuse to start without it; reading it changes nothing. Development generates it
    /// on first use, so there is nothing to check.
    package func checkRecordable() throws(AuditLogError) {
        guard config.mode == .production else { return }
        _ = try checkpointSigner(origin: "laforge/config-validate")
    }

    /// The checkpoint signer, plus a notice when it was just generated.
    func checkpointSigner(origin: String) throws(AuditLogError) -> (Ed25519SigningKey, notice: String?) {
        let keyPath = path(configured: config.audit.checkpoints.keyFile, defaultName: "checkpoint")
        if let backend = config.audit.checkpoints.keyWrappedBy {
            return try wrappedCheckpointSigner(keyPath: keyPath, backend: backend, origin: origin)
        }
        if let text = try? String(contentsOfFile: keyPath, encoding: .utf8), WrappedCheckpointKey.isWrapped(text) {
            throw AuditLogError(
                .configuration, "checkpoint signing key \(keyPath) is wrapped by a KMS: set audit.checkpoints.key_wrapped_by to its secret backend")
        }
        return try signer(at: keyPath, name: origin, purpose: "checkpoint", setting: "audit.checkpoints.key_file")
    }

    /// The Ed25519 signing key at `keyPath`; in development mode generated (named `name`) when
    /// absent, with a notice. `purpose` and `setting` name the key and its config key in messages.
    package func signer(at keyPath: String, name: String, purpose: String, setting: String) throws(AuditLogError)
        -> (Ed25519SigningKey, notice: String?)
    {
        if FileManager.default.fileExists(atPath: keyPath) {
            do { return (try Ed25519SigningKey(contentsOfFile: keyPath), nil) } catch {
                throw AuditLogError(.configuration, "\(purpose) signing key \(keyPath): \(error.message)")
            }
        }
        guard config.mode == .development else {
            throw AuditLogError(
                .configuration,
                "no \(purpose) signing key at \(keyPath): production mode never generates one; create it with "
                    + "`laforge keys generate --out \(keyPath)` and keep a copy of \(keyPath).pub for verifiers "
                    + "(or set \(setting))")
        }
        do {
            try createPrivateDirectory(for: keyPath)
            let key = try Ed25519SigningKey.generate(name: name)
            let temporary = Self.temporaryPath(for: keyPath)
            try KeyFileWriter.write(key, to: temporary)
            defer { unlink(temporary + ".pub") }
            guard try Self.publish(temporary, as: keyPath) else {
                // Another process generated it first (concurrent first uses): use theirs.
                do { return (try Ed25519SigningKey(contentsOfFile: keyPath), nil) } catch {
                    throw AuditLogError(.configuration, "\(purpose) signing key \(keyPath): \(error.message)")
                }
            }
            if rename(temporary + ".pub", keyPath + ".pub") != 0 { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
            return (key, "generated a \(purpose) signing key at \(keyPath) (development mode); verifier key: \(keyPath).pub")
        } catch let error as AuditLogError {
            throw error
        } catch let error as KeyFormatError {
            throw AuditLogError(.configuration, "cannot create the \(purpose) signing key: \(error.message)")
        } catch {
            throw AuditLogError(.configuration, "cannot create \(keyPath): \(error.localizedDescription)")
        }
    }

    /// The signer from a KMS-wrapped key file, unwrapped through secret backend `backend`. In
    /// development mode a missing key is generated and written in wrapped form only.
    private func wrappedCheckpointSigner(keyPath: String, backend: String, origin: String) throws(AuditLogError) -> (Ed25519SigningKey, notice: String?) {
        let kmsKey = config.audit.checkpoints.keyWrappingKey
        do {
            if let text = try? String(contentsOfFile: keyPath, encoding: .utf8) {
                guard WrappedCheckpointKey.isWrapped(text) else {
                    throw KeyFormatError(
                        "\(keyPath) holds a plain key but audit.checkpoints.key_wrapped_by is set: wrap it with "
                            + "`laforge keys wrap --in \(keyPath) --out NEW --backend \(backend)` and remove the plain file")
                }
                let key = try WrappedCheckpointKey.withBackend(named: backend, config: config) { (instance) throws(KeyFormatError) in
                    try WrappedCheckpointKey.unwrap(text, backend: instance, kmsKeyID: kmsKey)
                }
                return (key, nil)
            }
            guard config.mode == .development else {
                throw KeyFormatError(
                    "no checkpoint signing key at \(keyPath): production mode never generates one; create it with "
                        + "`laforge keys wrap --generate NAME --backend \(backend) --out \(keyPath)`")
            }
            try createPrivateDirectory(for: keyPath)
            let key = try Ed25519SigningKey.generate(name: origin)
            let text = try WrappedCheckpointKey.withBackend(named: backend, config: config) { (instance) throws(KeyFormatError) in
                try WrappedCheckpointKey.wrap(key, backend: instance, kmsKeyID: kmsKey)
            }
            try WrappedCheckpointKey.write(text, verifierKey: key.verifierKey, to: keyPath)
            return (key, "generated a checkpoint signing key wrapped by \(backend) at \(keyPath) (development mode); verifier key: \(keyPath).pub")
        } catch let error as KeyFormatError {
            throw AuditLogError(error.isUnavailable ? .keyUnavailable : .configuration, "checkpoint signing key \(keyPath): \(error.message)")
        } catch {
            throw AuditLogError(.configuration, "cannot create \(keyPath): \(error.localizedDescription)")
        }
    }

    /// The verifier key published beside the checkpoint key file (`.pub`), for checking the
    /// stored checkpoints while the signing key itself cannot be unwrapped.
    func publishedCheckpointVerifierKey() -> Ed25519VerifierKey? {
        let keyPath = path(configured: config.audit.checkpoints.keyFile, defaultName: "checkpoint")
        guard let text = try? String(contentsOfFile: keyPath + ".pub", encoding: .utf8) else { return nil }
        return try? Ed25519VerifierKey(parsing: text)
    }

    /// The keys checkpoints may be signed by: the current signer and configured older ones.
    func verifierKeys(signer: Ed25519VerifierKey?) throws(AuditLogError) -> [Ed25519VerifierKey] {
        var keys = signer.map { [$0] } ?? []
        for text in config.audit.checkpoints.verifierKeys {
            do { keys.append(try Ed25519VerifierKey(parsing: text)) } catch {
                throw AuditLogError(.configuration, "audit.checkpoints.verifier_keys: \(error.message)")
            }
        }
        return keys
    }

    /// The PII HMAC key (hex in a file, 32 random bytes when generated).
    func piiKey() throws(AuditLogError) -> (SecretValue, notice: String?) {
        let keyPath = path(configured: config.audit.pii.keyFile, defaultName: "pii-hmac")
        if let text = try? String(contentsOfFile: keyPath, encoding: .utf8) {
            guard var bytes = [UInt8](hexString: text.trimmingCharacters(in: .whitespacesAndNewlines)), bytes.count >= 32 else {
                throw AuditLogError(.configuration, "PII HMAC key \(keyPath) must hold at least 32 bytes as hex")
            }
            defer { sodium_memzero(&bytes, bytes.count) }
            return (SecretValue(bytes: bytes), nil)
        }
        guard config.mode == .development else {
            throw AuditLogError(
                .configuration,
                "no PII HMAC key at \(keyPath): production mode never generates one; write 32 random bytes as hex there "
                    + "(e.g. `head -c32 /dev/urandom | xxd -p -c64 > \(keyPath); chmod 600 \(keyPath)`) or set audit.pii.key_file")
        }
        var bytes = [UInt8](repeating: 0, count: 32)
        randombytes_buf(&bytes, 32)
        defer { sodium_memzero(&bytes, 32) }
        do {
            try createPrivateDirectory(for: keyPath)
            let temporary = Self.temporaryPath(for: keyPath)
            let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
            var text = Array((bytes.hexString + "\n").utf8)
            defer { sodium_memzero(&text, text.count) }
            let complete = write(fd, text, text.count) == text.count && fsync(fd) == 0
            close(fd)
            guard complete else {
                unlink(temporary)
                throw POSIXError(.EIO)
            }
            guard try Self.publish(temporary, as: keyPath) else {
                // Another process generated it first (concurrent first emits): use theirs.
                return try piiKey()
            }
        } catch let error as AuditLogError {
            throw error
        } catch {
            throw AuditLogError(.configuration, "cannot create the PII HMAC key \(keyPath): \(error.localizedDescription)")
        }
        return (SecretValue(bytes: bytes), "generated a PII HMAC key at \(keyPath) (development mode)")
    }

    /// A fresh name next to `path` to write a key under before `publish`.
    private static func temporaryPath(for path: String) -> String {
        path + ".tmp-\(getpid())-\(UUID().uuidString)"
    }

    /// Gives the complete file `temporary` the name `path` unless a file has it already, and
    /// removes `temporary`. `link` fails on an existing name, so concurrent first uses agree on
    /// one key and no process ever reads a half-written key file. False when another won.
    private static func publish(_ temporary: String, as path: String) throws -> Bool {
        defer { unlink(temporary) }
        if link(temporary, path) == 0 {
            _ = FileIO.syncDirectory((path as NSString).deletingLastPathComponent)
            return true
        }
        guard errno == EEXIST else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        return false
    }

    private func createPrivateDirectory(for file: String) throws {
        try FileManager.default.createDirectory(
            atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o700])
    }
}

extension AuditKeys {
    /// The checkpoint verifier keys available without generating anything.
    func existingVerifierKeys() throws(AuditLogError) -> [Ed25519VerifierKey] {
        try trustedVerifierKeys().map(\.key)
    }

    /// The keys a verifier trusts, each with its source: the configured
    /// `audit.checkpoints.verifier_keys` (pinned) and, in development mode only, the signer's own
    /// key found next to `key_file` (its `.pub`, or the public half of the private key file).
    /// Production never takes that one: whoever can write the state directory could replace it
    /// together with a re-signed chain, so the verdict must rest on keys pinned elsewhere (the
    /// configuration, or `--key` on the command line).
    package func trustedVerifierKeys() throws(AuditLogError) -> [TrustedVerifierKey] {
        var trusted: [TrustedVerifierKey] = []
        if config.mode == .development {
            let keyPath = path(configured: config.audit.checkpoints.keyFile, defaultName: "checkpoint")
            if let text = try? String(contentsOfFile: keyPath + ".pub", encoding: .utf8), let key = try? Ed25519VerifierKey(parsing: text) {
                trusted.append(TrustedVerifierKey(key: key, source: "the signer's key file \(keyPath).pub (development mode only)", isPinned: false))
            } else if let key = try? Ed25519SigningKey(contentsOfFile: keyPath) {
                trusted.append(
                    TrustedVerifierKey(key: key.verifierKey, source: "the signer's key file \(keyPath) (development mode only)", isPinned: false))
            }
        }
        let file = (config.sourcePath as NSString).lastPathComponent
        for (index, text) in config.audit.checkpoints.verifierKeys.enumerated() {
            do {
                let key = try Ed25519VerifierKey(parsing: text)
                if !trusted.contains(where: { $0.key == key }) {
                    trusted.append(TrustedVerifierKey(key: key, source: "audit.checkpoints.verifier_keys[\(index)] in \(file)", isPinned: true))
                }
            } catch {
                throw AuditLogError(.configuration, "audit.checkpoints.verifier_keys: \(error.message)")
            }
        }
        return trusted
    }
}
