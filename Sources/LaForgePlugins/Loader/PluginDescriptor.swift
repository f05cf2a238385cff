import PluginABI
/// The host's copy of a plugin's descriptor, taken once at load time. Copies of the C vtables
/// live here too: the host reads only min(its size, the plugin's size) of each struct and leaves
/// fields the plugin did not provide zeroed (absent).
public struct PluginDescriptor: @unchecked Sendable {
    // @unchecked: the vtables hold C function pointers to immutable code in a library that is
    // never unloaded.
    public var name: String
    public var version: String
    public var description: String
    public var license: String
    public var abi: ABIVersion
    public var capabilities: [PluginCapability]
    /// Capability bits this host does not know (from a newer minor); reported, never used.
    public var unknownCapabilityBits: UInt64
    var auditSink: laforge_audit_sink_vtable?
    var secretBackend: laforge_secret_backend_vtable?
    var idpConnector: laforge_idp_connector_vtable?

    /// The JSON Schema text of a capability's configuration (nil: no configuration accepted).
    public func configSchemaText(for capability: PluginCapability) -> String? {
        let pointer: UnsafePointer<CChar>?
        switch capability {
        case .auditSink: pointer = auditSink?.config_schema
        case .secretBackend: pointer = secretBackend?.config_schema
        case .idpConnector: pointer = idpConnector?.config_schema
        }
        return pointer.map { String(cString: $0) }
    }

    /// Whether the capability declared it may be called concurrently on one instance.
    public func isConcurrent(_ capability: PluginCapability) -> Bool {
        switch capability {
        case .auditSink: return auditSink?.threading == LAFORGE_THREADING_CONCURRENT
        case .secretBackend: return secretBackend?.threading == LAFORGE_THREADING_CONCURRENT
        case .idpConnector: return idpConnector?.threading == LAFORGE_THREADING_CONCURRENT
        }
    }

    public var secretBackendOperations: [String] {
        guard let vtable = secretBackend else { return [] }
        var operations: [String] = []
        if vtable.get_secret != nil { operations.append("get_secret") }
        if vtable.encrypt != nil { operations.append("encrypt") }
        if vtable.decrypt != nil { operations.append("decrypt") }
        if vtable.generate_data_key != nil { operations.append("generate_data_key") }
        return operations
    }
}

extension PluginDescriptor {
    /// The optional audit-sink functions, each with whether the plugin provides it.
    public var auditSinkOptionalFunctions: [(name: String, present: Bool)] {
        guard let vtable = auditSink else { return [] }
        return [("flush", vtable.flush != nil), ("health", vtable.health != nil), ("read_back", vtable.read_back != nil)]
    }

    /// Why a capability's config schema cannot be used (nil: it can, or there is none). The
    /// same check the host makes before it creates an instance.
    public func configSchemaProblem(for capability: PluginCapability) -> String? {
        do {
            _ = try PluginSchemaCheck(schemaText: configSchemaText(for: capability), library: name)
            return nil
        } catch {
            return error.message
        }
    }

    /// The login flows an IdP connector offers besides token validation.
    public var idpConnectorFlows: [String] {
        guard let vtable = idpConnector else { return [] }
        var flows = ["validate_token"]
        if vtable.login_start != nil { flows.append("authorization_code") }
        if vtable.refresh != nil { flows.append("refresh") }
        if vtable.device_start != nil { flows.append("device_code") }
        return flows
    }
}
