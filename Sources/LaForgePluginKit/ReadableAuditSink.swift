import LaForgeABI
import PluginABI

/// An audit sink the host can read back (ABI 1.1 `read_back`: `laforge verify chain --sink`,
/// `laforge audit query --sink`). A sink that cannot be read leaves the slot NULL by not
/// adopting this.
public protocol ReadableAuditSink: AuditSinkPlugin {
    typealias Visit = @convention(c) (UnsafeMutableRawPointer?, UnsafePointer<laforge_audit_record>?, UnsafePointer<CChar>?) -> Int32

    func readBack(chainID: UnsafePointer<CChar>?, from: UInt64, visit: Visit?, context: UnsafeMutableRawPointer?) -> Int32
}
