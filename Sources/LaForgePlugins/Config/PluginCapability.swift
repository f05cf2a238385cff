import PluginABI

/// A capability a plugin offers, one vtable each.
public enum PluginCapability: String, Sendable, CaseIterable, Codable {
    case auditSink = "audit_sink"
    case secretBackend = "secret_backend"
    /// ABI 1.1.
    case idpConnector = "idp_connector"

    var bit: UInt64 {
        switch self {
        case .auditSink: return UInt64(LAFORGE_CAP_AUDIT_SINK)
        case .secretBackend: return UInt64(LAFORGE_CAP_SECRET_BACKEND)
        case .idpConnector: return UInt64(LAFORGE_CAP_IDP_CONNECTOR)
        }
    }
}
