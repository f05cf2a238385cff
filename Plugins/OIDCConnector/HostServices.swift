import PluginABI

/// The host's callback table, copied by the size rule (a smaller table from an older host
/// leaves the missing callbacks nil and `mode` 0). The table itself stays valid until destroy.
struct HostServices: @unchecked Sendable {
    // @unchecked: the table is immutable and its callbacks may be called from any thread.
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

    /// Production unless the host says development: an older host that sends no mode gets the
    /// strict behaviour.
    var isDevelopment: Bool { table.mode == LAFORGE_MODE_DEVELOPMENT.rawValue }

    func log(_ level: laforge_log_level, _ message: String) {
        guard let log = table.log else { return }
        message.withCString { log(table.host_ctx, Int32(level.rawValue), $0) }
    }

    func counterAdd(_ name: String, label: (String, String)? = nil, _ delta: Double = 1) {
        guard let counterAdd = table.counter_add else { return }
        name.withCString { namePointer in
            guard let label else { return counterAdd(table.host_ctx, namePointer, nil, 0, delta) }
            label.0.withCString { labelName in
                label.1.withCString { labelValue in
                    var pair = laforge_label(name: labelName, value: labelValue)
                    counterAdd(table.host_ctx, namePointer, &pair, 1, delta)
                }
            }
        }
    }
}
