import PluginABI

/// The host's callback table, copied by the size rule (a smaller table from an older host
/// leaves the missing callbacks nil and `mode` 0). The table itself stays valid until destroy.
struct HostServices {
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

    /// `mode: production` (ABI 1.1). The descriptor's abi_minor 1 keeps 1.0 hosts, which cannot
    /// say, from loading the plugin at all.
    var isProduction: Bool { table.mode == UInt32(LAFORGE_MODE_PRODUCTION.rawValue) }

    func log(_ level: laforge_log_level, _ message: String) {
        guard let log = table.log else { return }
        message.withCString { log(table.host_ctx, Int32(level.rawValue), $0) }
    }

    func counterAdd(_ name: String, _ delta: Double) {
        guard let counterAdd = table.counter_add, delta > 0 else { return }
        name.withCString { counterAdd(table.host_ctx, $0, nil, 0, delta) }
    }
}
