// The plugin's one export. The kit builds the descriptor and the vtable around
// PostgresAuditInstance (write, health, read_back; every write commits, so no flush).

private let plugin = PluginExport(
    name: "postgresaudit", version: "1.0.0",
    description: "Audit sink: append-only PostgreSQL tables written with COPY, read back for verification",
    license: "Apache-2.0", abiMinor: 1,  // reads the host's mode (production refuses unverified TLS to remote hosts)
    refusal: "PostgresAudit is written for LaForge plugin ABI 1.x (1.1 or later)",
    auditSink: AuditSinkVTable(PostgresAuditInstance.self, schema: PostgresAuditConfig.schema) { createInstance(PostgresAuditInstance.self, $0, $1, $2, $3) })

/// `laforge_plugin_entry`: the descriptor, or NULL for a host of another ABI major.
@_cdecl("laforge_plugin_entry")
public func laforgePluginEntry(_ host: PluginEntryHostInfo, _ refusal: PluginEntryRefusal) -> PluginEntryDescriptor {
    plugin.entry(host, refusal)
}
