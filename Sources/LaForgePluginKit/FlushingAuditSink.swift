import LaForgeABI
import PluginABI

/// An audit sink with something to make durable after `write` returned (the `flush` slot; a
/// sink whose every write is already durable leaves it NULL by not adopting this).
public protocol FlushingAuditSink: AuditSinkPlugin {
    func flush() -> Int32
}
