import LaForgeABI
import PluginABI

/// A plugin's descriptor and what its `laforge_plugin_entry` answers. Built once, in a global of
/// the plugin's entry file, and never freed (the host never unloads a plugin):
///
///     private let plugin = PluginExport(name: "filesink", …, auditSink: AuditSinkVTable(…))
///
///     @_cdecl("laforge_plugin_entry")
///     public func laforgePluginEntry(_ host: PluginEntryHostInfo, _ refusal: PluginEntryRefusal) -> PluginEntryDescriptor {
///         plugin.entry(host, refusal)
///     }
///
/// (The export itself stays in the plugin: each library has its own entry symbol.)
public struct PluginExport: @unchecked Sendable {
    // @unchecked: written once here and only read afterwards.
    public let descriptor: UnsafePointer<laforge_plugin_descriptor>
    private let refusal: UnsafePointer<CChar>
    private let minimumHostMinor: UInt16

    /// - Parameters:
    ///   - abiMinor: the ABI minor the plugin needs (its descriptor's `abi_minor`: the host refuses
    ///     to load it into an older one).
    ///   - minimumHostMinor: refuse, from the entry itself, a host older than this minor (for a
    ///     capability an older host would not even look for).
    ///   - refusal: the reason the entry gives a host it refuses (NULL host info, another major).
    public init(
        name: String, version: String, description: String, license: String,
        abiMinor: UInt16, minimumHostMinor: UInt16 = 0, refusal: String,
        auditSink: AuditSinkVTable? = nil, secretBackend: SecretBackendVTable? = nil, idpConnector: IdPConnectorVTable? = nil
    ) {
        var capabilities: UInt64 = 0
        if auditSink != nil { capabilities |= UInt64(LAFORGE_CAP_AUDIT_SINK) }
        if secretBackend != nil { capabilities |= UInt64(LAFORGE_CAP_SECRET_BACKEND) }
        if idpConnector != nil { capabilities |= UInt64(LAFORGE_CAP_IDP_CONNECTOR) }
        descriptor = staticStorage(
            laforge_plugin_descriptor(
                struct_size: UInt32(MemoryLayout<laforge_plugin_descriptor>.size),
                abi_major: UInt16(LAFORGE_ABI_VERSION_MAJOR),
                abi_minor: abiMinor,
                name: staticCString(name),
                version: staticCString(version),
                description: staticCString(description),
                license: staticCString(license),
                capabilities: capabilities,
                audit_sink: auditSink?.pointer,
                secret_backend: secretBackend?.pointer,
                idp_connector: idpConnector?.pointer))
        self.refusal = staticCString(refusal)
        self.minimumHostMinor = minimumHostMinor
    }

    /// `laforge_plugin_entry`: the descriptor, or NULL (with the refusal reason) for a host of
    /// another ABI major or older than `minimumHostMinor`.
    public func entry(_ host: PluginEntryHostInfo, _ refusal: PluginEntryRefusal) -> PluginEntryDescriptor {
        guard let host else {
            refusal?.pointee = self.refusal
            return nil
        }
        let info = copySizePrefixed(UnsafeRawPointer(host), into: laforge_host_info())
        guard info.abi_major == UInt16(LAFORGE_ABI_VERSION_MAJOR), info.abi_minor >= minimumHostMinor else {
            refusal?.pointee = self.refusal
            return nil
        }
        return descriptor
    }
}
