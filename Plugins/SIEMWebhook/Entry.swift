// The plugin's one export. The kit builds the descriptor and the vtable around
// SIEMWebhookInstance (every acknowledged write is stored by the receiver: no flush; a webhook
// receiver cannot be read back: no read_back).

private let plugin = PluginExport(
    name: "siem-webhook", version: "1.0.0",
    description: "Audit sink for SIEMs: signed webhooks (NDJSON, JSON array), Splunk HEC, Elastic _bulk, CEF over syslog/TLS",
    license: "Apache-2.0", abiMinor: 1,  // reads laforge_host_api.mode (production refuses insecure settings)
    refusal: "SIEMWebhook is written for LaForge plugin ABI 1.x (1.1 or later)",
    auditSink: AuditSinkVTable(SIEMWebhookInstance.self, schema: SIEMWebhookConfig.schema) { createInstance(SIEMWebhookInstance.self, $0, $1, $2, $3) })

/// `laforge_plugin_entry`: the descriptor, or NULL for a host of another ABI major.
@_cdecl("laforge_plugin_entry")
public func laforgePluginEntry(_ host: PluginEntryHostInfo, _ refusal: PluginEntryRefusal) -> PluginEntryDescriptor {
    plugin.entry(host, refusal)
}
