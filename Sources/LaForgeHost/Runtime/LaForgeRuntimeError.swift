/// Why a `LaForgeRuntime` call failed: the underlying layer's own error, which names the file,
/// field or plugin instance to fix. `description` is the message to show an operator; it never
/// contains a secret value.
public enum LaForgeRuntimeError: Error, CustomStringConvertible, Sendable {
    /// The configuration file cannot be read or does not validate.
    case configuration(ConfigError)
    /// A plugin could not be loaded, configured or created (or its `config:` is wrong).
    case plugins(RuntimeStartError)
    /// The audit log: an invalid event, a journal that cannot persist, a key that cannot load.
    case audit(AuditLogError)
    /// Identity: a connector is missing or unavailable, a denial could not be recorded.
    case identity(IdentityError)
    /// A secret reference did not resolve through the configured secret backends.
    case secret(SecretResolutionError)
    /// Envelope encryption: no such backend, or the backend refused.
    case envelope(EnvelopeError)
    /// Snapshots and the deployment guard.
    case snapshot(SnapshotError)
    /// `shutdown()` has begun: the runtime accepts nothing more (the call did nothing).
    case shutDown

    public var description: String {
        switch self {
        case .configuration(let error): return error.description
        case .plugins(let error): return error.description
        case .audit(let error): return error.description
        case .identity(let error): return error.description
        case .secret(let error): return error.description
        case .envelope(let error): return error.description
        case .snapshot(let error): return error.description
        case .shutDown: return "the LaForge runtime is shutting down; nothing more is accepted"
        }
    }
}
