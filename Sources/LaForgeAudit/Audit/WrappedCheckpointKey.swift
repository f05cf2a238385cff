import CSodium
import Foundation
import LaForgeCore
import LaForgePlugins

/// A checkpoint signing key stored wrapped by a KMS (`audit.checkpoints.key_wrapped_by`): the key
/// file holds `WRAPPED+KEY+NAME+KEYID+BASE64`, where BASE64 is the secret backend's ciphertext of
/// the 32-byte Ed25519 seed, bound to the context
/// `{"key_id":KEYID,"key_name":NAME,"purpose":"laforge-checkpoint-key"}`. The host unwraps it into
/// locked memory when the audit log opens; the unwrapped key never touches the disk. The verifier
/// key (`.pub`) is written beside it as for a plain key.
public enum WrappedCheckpointKey {
    static let prefix = "WRAPPED+KEY+"

    public static func isWrapped(_ text: String) -> Bool { text.hasPrefix(prefix) }

    static func context(name: String, keyIDHex: String) -> [UInt8] {
        JSONCanonicalizer.canonicalize(.object([
            "purpose": .string("laforge-checkpoint-key"), "key_name": .string(name), "key_id": .string(keyIDHex),
        ]))
    }

    /// The key file text for `key` wrapped by `backend` (key `kmsKeyID`, nil: the backend's default).
    public static func wrap(_ key: Ed25519SigningKey, backend: SecretBackendInstance, kmsKeyID: String?) throws(KeyFormatError) -> String {
        // PRIVATE+KEY+NAME+KEYID+BASE64(0x01 ‖ seed); base64 itself may contain '+'.
        let parts = key.encodedPrivateKey().split(separator: "+", maxSplits: 4, omittingEmptySubsequences: false)
        guard parts.count == 5, var data = Data(base64Encoded: String(parts[4])), data.count == 33 else {
            throw KeyFormatError("cannot encode the signing key")
        }
        let seed = SecretValue(bytes: data.dropFirst())
        data.resetBytes(in: 0..<data.count)
        let name = key.name
        let keyIDHex = key.verifierKey.keyIDHex
        do {
            let wrapped = try backend.encrypt(keyID: kmsKeyID, plaintext: seed, context: context(name: name, keyIDHex: keyIDHex))
            return "\(prefix)\(name)+\(keyIDHex)+\(Data(wrapped).base64EncodedString())"
        } catch {
            throw KeyFormatError("wrapping the checkpoint key with secret backend \(backend.name): \(error.description)")
        }
    }

    /// The signing key from a wrapped key file's text.
    public static func unwrap(_ text: String, backend: SecretBackendInstance, kmsKeyID: String?) throws(KeyFormatError) -> Ed25519SigningKey {
        let parts = text.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "+", maxSplits: 4, omittingEmptySubsequences: false)
        guard parts.count == 5, parts[0] == "WRAPPED", parts[1] == "KEY", let wrapped = Data(base64Encoded: String(parts[4])) else {
            throw KeyFormatError("a wrapped key file holds one line WRAPPED+KEY+NAME+KEYID+BASE64 (as `laforge keys wrap` writes)")
        }
        let name = String(parts[2])
        let keyIDHex = String(parts[3]).lowercased()
        let seed: SecretValue
        do {
            seed = try backend.decrypt(keyID: kmsKeyID, ciphertext: Array(wrapped), context: context(name: name, keyIDHex: keyIDHex))
        } catch {
            // The KMS unreachable (RETRY) or refusing for now (ACCESS_DENIED: a revoked grant
            // an operator restores) may answer later; anything else means the key file is wrong.
            let isUnavailable = error.status == .retry || error.status == .accessDenied
            throw KeyFormatError(
                "unwrapping checkpoint key \(name) with secret backend \(backend.name): \(error.description)", isUnavailable: isUnavailable)
        }
        var bytes = seed.withUnsafeBytes { Array($0) }
        defer { sodium_memzero(&bytes, bytes.count) }
        let key = try Ed25519SigningKey(name: name, seed: bytes)
        guard key.verifierKey.keyIDHex == keyIDHex else {
            throw KeyFormatError("wrapped checkpoint key \(name): key id \(keyIDHex) does not match the unwrapped key")
        }
        return key
    }

    /// Writes `text` to `path` (mode 0600, never overwriting) and the verifier key to `path.pub`.
    public static func write(_ text: String, verifierKey: Ed25519VerifierKey, to path: String) throws(KeyFormatError) {
        for existing in [path, path + ".pub"] where FileManager.default.fileExists(atPath: existing) {
            throw KeyFormatError("\(existing) already exists: refusing to overwrite a key (move it away first)")
        }
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw KeyFormatError("cannot create \(path): \(String(cString: strerror(errno)))") }
        let bytes = Array((text + "\n").utf8)
        let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        let synced = fsync(fd)
        close(fd)
        guard written == bytes.count, synced == 0 else {
            unlink(path)
            throw KeyFormatError("cannot write \(path): \(String(cString: strerror(errno)))")
        }
        do {
            try (verifierKey.encoded + "\n").write(toFile: path + ".pub", atomically: true, encoding: .utf8)
        } catch {
            throw KeyFormatError("cannot write \(path).pub: \(error.localizedDescription)")
        }
    }

    /// Starts the configured secret backends (not the sinks) to unwrap with backend `name`.
    static func withBackend<R>(
        named name: String, config: LaForgeConfig, _ body: (SecretBackendInstance) throws(KeyFormatError) -> R
    ) throws(KeyFormatError) -> R {
        guard config.secretBackends.contains(where: { $0.name == name }) else {
            throw KeyFormatError(
                "audit.checkpoints.key_wrapped_by names \(name), which is not in secret_backends"
                    + " (configured: \(config.secretBackends.map(\.name).joined(separator: ", ")))")
        }
        var backendsOnly = config
        backendsOnly.audit.sinks = []
        let runtime: PluginRuntime
        do {
            runtime = try PluginRuntime.start(config: backendsOnly)
        } catch {
            // A configuration the backend's schema refuses is the operator's to fix; a backend
            // whose create fails (its service down) may start later.
            let isUnavailable: Bool
            if case .plugin(let failure) = error, failure.kind == .createFailed { isUnavailable = true } else { isUnavailable = false }
            throw KeyFormatError("cannot start secret backend \(name) to unwrap the checkpoint key: \(error.description)", isUnavailable: isUnavailable)
        }
        defer { runtime.close() }
        guard let backend = runtime.secretBackends.first(where: { $0.name == name }) else {
            throw KeyFormatError("secret backend \(name) did not start")
        }
        return try body(backend)
    }
}
