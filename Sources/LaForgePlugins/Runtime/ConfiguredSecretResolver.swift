import LaForgeCore

/// Resolves "BACKEND/NAME" (or "NAME" with a single backend) through the loaded secret-backend
/// instances, for `${secret:…}` in the configuration and for plugins' resolve_secret.
final class ConfiguredSecretResolver: SecretResolving, @unchecked Sendable {
    // @unchecked: `backends` is filled while the runtime starts (one thread) and read after.
    private let lock = LockedValue<[String: SecretBackendInstance]>([:])

    func add(_ backend: SecretBackendInstance) {
        lock.withLock { $0[backend.name] = backend }
    }

    func resolveSecret(_ reference: String) throws(SecretResolutionError) -> SecretValue {
        let backends = lock.withLock { $0 }
        let backend: SecretBackendInstance
        let name: String
        if let slash = reference.firstIndex(of: "/"), let named = backends[String(reference[..<slash])] {
            backend = named
            name = String(reference[reference.index(after: slash)...])
        } else if backends.count == 1, let only = backends.values.first {
            backend = only
            name = reference
        } else {
            let known = backends.keys.sorted()
            throw SecretResolutionError(
                reference: reference, status: .notFound,
                message: known.isEmpty
                    ? "no secret backend is configured"
                    : "name the backend as BACKEND/NAME (configured backends: \(known.joined(separator: ", ")))")
        }
        do {
            return try backend.getSecret(name)
        } catch {
            let status: PluginStatus
            switch error.kind {
            case .failed(let failed): status = failed
            case .protocolViolation, .closed: status = .internalError
            }
            throw SecretResolutionError(reference: reference, status: status, message: error.description)
        }
    }
}
