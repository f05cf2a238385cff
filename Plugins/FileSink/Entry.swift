// The plugin's one export. The kit builds the descriptor and the vtable around FileSinkInstance;
// create is the one slot written here (a C function pointer cannot be formed in generic code).

private let plugin = PluginExport(
    name: "filesink", version: "1.0.0",
    description: "Audit sink: NDJSON files with checkpoint-sealed rotation, reopened after logrotate",
    license: "Apache-2.0", abiMinor: 0,  // needs nothing newer than ABI 1.0
    refusal: "FileSink is written for LaForge plugin ABI 1.x",
    // The host verifies FileSink files by reading them itself (`verify chain --file`): no read_back.
    auditSink: AuditSinkVTable(FileSinkInstance.self, schema: FileSinkConfig.schema) { createInstance(FileSinkInstance.self, $0, $1, $2, $3) })

/// `laforge_plugin_entry`: the descriptor, or NULL for a host of another ABI major.
@_cdecl("laforge_plugin_entry")
public func laforgePluginEntry(_ host: PluginEntryHostInfo, _ refusal: PluginEntryRefusal) -> PluginEntryDescriptor {
    plugin.entry(host, refusal)
}
