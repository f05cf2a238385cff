// The plugin's one export. The kit builds the descriptor and the vtable around
// KMSSecretsInstance (secrets by name, encrypt/decrypt, data keys; release zeroes and unlocks).

private let plugin = PluginExport(
    name: "kms-secrets", version: "1.0.0",
    description: "Secret backend: AWS KMS + Secrets Manager, Google Cloud KMS + Secret Manager, Azure Key Vault keys + secrets",
    license: "Apache-2.0", abiMinor: 0,  // needs nothing newer than ABI 1.0
    refusal: "KMSSecrets is written for LaForge plugin ABI 1.x",
    secretBackend: SecretBackendVTable(KMSSecretsInstance.self, schema: KMSSecretsConfig.schema) { createInstance(KMSSecretsInstance.self, $0, $1, $2, $3) })

/// `laforge_plugin_entry`: the descriptor, or NULL for a host of another ABI major.
@_cdecl("laforge_plugin_entry")
public func laforgePluginEntry(_ host: PluginEntryHostInfo, _ refusal: PluginEntryRefusal) -> PluginEntryDescriptor {
    plugin.entry(host, refusal)
}
