import LaForgeABI
import PluginABI

/// The host's callback table, copied by the size rule (a smaller table from an older host
/// leaves the missing callbacks nil and `mode` 0). The table itself stays valid until destroy.
public struct HostServices: @unchecked Sendable {
    // @unchecked: the table is immutable and its callbacks may be called from any thread.
    private let table: laforge_host_api

    public init(_ pointer: UnsafePointer<laforge_host_api>?) {
        table = pointer.map { copySizePrefixed(UnsafeRawPointer($0), into: laforge_host_api()) } ?? laforge_host_api()
    }

    /// The configuration says `mode: production` (ABI 1.1; a 1.0 host says nothing, and a plugin
    /// whose abi_minor is 1 never loads into one).
    public var isProduction: Bool { table.mode == UInt32(LAFORGE_MODE_PRODUCTION.rawValue) }

    /// The configuration says `mode: development`; a host that says nothing is not development,
    /// so a plugin asking this gets the strict behaviour by default.
    public var isDevelopment: Bool { table.mode == UInt32(LAFORGE_MODE_DEVELOPMENT.rawValue) }

    /// Never pass a secret value here: the host cannot redact what it does not know is secret.
    public func log(_ level: laforge_log_level, _ message: String) {
        guard let log = table.log else { return }
        message.withCString { log(table.host_ctx, Int32(level.rawValue), $0) }
    }

    /// Adds `delta` (> 0) to a counter, with at most one label.
    public func counterAdd(_ name: String, label: (String, String)? = nil, _ delta: Double = 1) {
        guard let counterAdd = table.counter_add, delta > 0 else { return }
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
