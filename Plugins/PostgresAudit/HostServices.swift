import PluginABI

/// The host's callback table, copied by the size rule (a smaller table from an older host
/// leaves the missing callbacks nil and `mode` 0). The table itself stays valid until destroy.
struct HostServices {
    private let table: laforge_host_api

    init(_ pointer: UnsafePointer<laforge_host_api>?) {
        table = pointer.map { copySizePrefixed(UnsafeRawPointer($0), into: laforge_host_api()) } ?? laforge_host_api()
    }

    /// True when the configuration runs in production mode (ABI 1.1; a 1.0 host says nothing).
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

/// Copies a size-prefixed struct the other side filled: at most its declared size, the rest
/// left as in `value` (zero: absent), per rule 2 of the header.
func copySizePrefixed<T>(_ source: UnsafeRawPointer, into value: T) -> T {
    var value = value
    let declared = Int(source.loadUnaligned(as: UInt32.self))
    let count = min(max(declared, 0), MemoryLayout<T>.size)
    withUnsafeMutableBytes(of: &value) { destination in
        destination.copyMemory(from: UnsafeRawBufferPointer(start: source, count: count))
    }
    return value
}
