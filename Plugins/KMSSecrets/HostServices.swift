import PluginABI

/// The host's callback table, copied by the size rule (a smaller table from an older host
/// leaves the missing callbacks nil). The table itself stays valid until destroy.
struct HostServices: @unchecked Sendable {
    private let table: laforge_host_api

    init(_ pointer: UnsafePointer<laforge_host_api>?) {
        var table = laforge_host_api()
        if let pointer {
            let size = min(Int(pointer.pointee.struct_size), MemoryLayout<laforge_host_api>.size)
            withUnsafeMutableBytes(of: &table) { destination in
                destination.copyMemory(from: UnsafeRawBufferPointer(start: UnsafeRawPointer(pointer), count: size))
            }
        }
        self.table = table
    }

    /// Never pass a secret value here: the host cannot redact what it does not know is secret.
    func log(_ level: laforge_log_level, _ message: String) {
        guard let log = table.log else { return }
        message.withCString { log(table.host_ctx, Int32(level.rawValue), $0) }
    }

    func counterAdd(_ name: String, _ delta: Double) {
        guard let counterAdd = table.counter_add, delta > 0 else { return }
        name.withCString { counterAdd(table.host_ctx, $0, nil, 0, delta) }
    }
}
