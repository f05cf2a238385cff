// The plugin's one export. The kit builds the descriptor and the vtable around
// OIDCConnectorInstance (CONCURRENT: validations share the key cache and an HTTP client pool).

private let plugin = PluginExport(
    name: "oidc-connector", version: "1.0.0",
    description: "IdP connector: OpenID Connect token validation (JWKS), code+PKCE login, refresh, device flow",
    license: "Apache-2.0", abiMinor: 1,  // the IdP connector capability is ABI 1.1
    minimumHostMinor: 1,  // a 1.0 host would not look for the connector's vtable
    refusal: "the OIDC connector needs a LaForge host with plugin ABI 1.1 or later (1.x)",
    idpConnector: IdPConnectorVTable(OIDCConnectorInstance.self, schema: OIDCConfig.schema, threading: LAFORGE_THREADING_CONCURRENT) {
        createInstance(OIDCConnectorInstance.self, $0, $1, $2, $3)
    })

/// `laforge_plugin_entry`: the descriptor, or NULL for a host that cannot load an IdP connector.
@_cdecl("laforge_plugin_entry")
public func laforgePluginEntry(_ host: PluginEntryHostInfo, _ refusal: PluginEntryRefusal) -> PluginEntryDescriptor {
    plugin.entry(host, refusal)
}
