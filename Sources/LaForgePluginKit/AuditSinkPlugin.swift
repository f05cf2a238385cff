import LaForgeABI
import PluginABI

/// An audit sink instance (`LAFORGE_CAP_AUDIT_SINK`). The host owns retries, batching, ordering
/// and dead letters; a sink only turns a batch into its system's write. Called under the
/// threading the vtable declares (`AuditSinkVTable`); none of these may throw or trap.
/// Refine with `FlushingAuditSink`, `ReadableAuditSink` or `ReopeningAuditSink` to fill those
/// optional slots.
public protocol AuditSinkPlugin: PluginInstance {
    /// Stores a batch (borrowed for the call; read it with `copySizePrefixed`). OK, RETRY,
    /// PERMANENT_ERROR (the record at `stored` is at fault) or ACCESS_DENIED, with `stored`
    /// the count of leading records now durable; every failure also recorded with `fail`.
    func write(_ batch: UnsafePointer<laforge_audit_batch>?) -> AuditWriteResult

    /// Cheap liveness probe: OK, or RETRY with the reason recorded with `fail`.
    func health() -> Int32
}

extension AuditSinkPlugin {
    /// The result type of `write`, by its short name inside a sink.
    public typealias WriteResult = AuditWriteResult
}
