import LaForgePlugins

extension PluginRuntime {
    /// The secret backend named `name`, or the only one when `name` is nil; the error says which
    /// backends exist.
    public func secretBackend(named name: String?) throws(EnvelopeError) -> SecretBackendInstance {
        let names = secretBackends.map(\.name)
        if let name {
            guard let backend = secretBackends.first(where: { $0.name == name }) else {
                throw EnvelopeError(
                    .unknownBackend,
                    "no secret backend named \(name)" + (names.isEmpty ? " (none is configured)" : " (configured: \(names.joined(separator: ", ")))"))
            }
            return backend
        }
        guard secretBackends.count == 1 else {
            throw EnvelopeError(
                .unknownBackend,
                names.isEmpty ? "no secret backend is configured (secret_backends in the configuration)"
                    : "several secret backends are configured (\(names.joined(separator: ", "))): name one with --backend")
        }
        return secretBackends[0]
    }
}
