import PluginABI

/// What a sink's write achieved, in the host's terms (ABI: OK / RETRY / PERMANENT_ERROR with
/// the `*stored` prefix).
public enum SinkWriteOutcome: Sendable, Equatable {
    /// Every record is durably stored.
    case stored
    /// `stored` leading records were stored; re-send the rest later.
    case retry(stored: Int, message: String)
    /// `stored` leading records were stored; the record at index `stored` can never be.
    case permanentError(stored: Int, message: String)
}

/// A created audit-sink instance of a plugin.
public final class AuditSinkInstance: @unchecked Sendable {
    // @unchecked: all plugin calls go through the handle's gate.
    let handle: PluginInstanceHandle
    private let vtable: laforge_audit_sink_vtable

    public var name: String { handle.name }
    public var library: PluginLibrary { handle.library }

    init(name: String, library: PluginLibrary, configJSON: String, context: PluginHostContext) throws(PluginLoadError) {
        guard let vtable = library.descriptor.auditSink else {
            throw PluginLoadError(.missingCapability, library: library.path, instance: name, "does not offer an audit sink")
        }
        self.vtable = vtable
        handle = try PluginInstanceHandle(
            name: name, library: library, configJSON: configJSON,
            concurrent: vtable.threading == LAFORGE_THREADING_CONCURRENT, context: context,
            create: vtable.create!, lastError: vtable.last_error!, destroy: vtable.destroy!)
    }

    /// Writes `batch` from record `start` on. Unknown status codes and an out-of-range `*stored`
    /// are protocol violations (thrown): the caller keeps the records and retries, never
    /// counting them as delivered.
    public func write(_ batch: AuditBatch, from start: Int = 0) throws(PluginCallError) -> SinkWriteOutcome {
        let write = vtable.write!
        return try handle.call("write") { () throws(PluginCallError) -> SinkWriteOutcome in
            var stored = 0
            let code = batch.withCBatch(from: start) { write(handle.handle, $0, &stored) }
            let remaining = batch.count - start
            let status = PluginStatus(code: code)
            if status == .ok { return .stored }
            guard stored >= 0, stored <= remaining, !(status == .permanentError && stored == remaining) else {
                throw PluginCallError(
                    .protocolViolation, instance: name, function: "write",
                    "returned \(status) with *stored = \(stored) for a batch of \(remaining) records")
            }
            switch status {
            case .retry: return .retry(stored: stored, message: handle.lastError())
            case .permanentError: return .permanentError(stored: stored, message: handle.lastError())
            case .unknown(let value):
                throw PluginCallError(.protocolViolation, instance: name, function: "write", "returned unknown status \(value)")
            default:
                throw PluginCallError(
                    .protocolViolation, instance: name, function: "write",
                    "returned \(status); write may only return OK, RETRY or PERMANENT_ERROR (\(handle.lastError()))")
            }
        }
    }

    /// Makes what was written durable. A plugin without flush is durable on write.
    public func flush() throws(PluginCallError) {
        guard let flush = vtable.flush else { return }
        try handle.call("flush") { () throws(PluginCallError) in try handle.check(flush(handle.handle), "flush") }
    }

    /// OK when healthy; the failure carries the plugin's reason otherwise.
    public func health() throws(PluginCallError) {
        guard let health = vtable.health else { return }
        try handle.call("health") { () throws(PluginCallError) in try handle.check(health(handle.handle), "health") }
    }

    /// Destroys the instance after calls in flight return. Idempotent.
    public func close() { handle.close() }
}
