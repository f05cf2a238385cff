import LaForgeABI
import PluginABI

/// The audit sink vtable for an `AuditSinkPlugin` type: static storage (never freed, the host
/// never unloads a plugin), every slot but `create` one of the kit's functions, `flush`,
/// `read_back` and `reopen` set when the type adopts `FlushingAuditSink` / `ReadableAuditSink` /
/// `ReopeningAuditSink`.
public struct AuditSinkVTable: @unchecked Sendable {
    // @unchecked: the table is written once here and only read afterwards.
    public let pointer: UnsafePointer<laforge_audit_sink_vtable>

    /// `create` is `{ createInstance(Sink.self, $0, $1, $2, $3) }` (see `createInstance`).
    public init<Sink: AuditSinkPlugin>(
        _ type: Sink.Type, schema: String, threading: UInt32 = LAFORGE_THREADING_SERIAL,
        create: PluginCreateFunction
    ) {
        pointer = staticStorage(
            laforge_audit_sink_vtable(
                struct_size: UInt32(MemoryLayout<laforge_audit_sink_vtable>.size),
                threading: threading,
                config_schema: staticCString(schema),
                create: create,
                write: { pointer, batch, stored in
                    guard let sink = InstanceBox.from(pointer)?.sink else { return Status.internalError }
                    let result = sink.write(batch)
                    stored?.pointee = result.stored
                    return result.status
                },
                flush: Sink.self is any FlushingAuditSink.Type
                    ? { pointer in InstanceBox.from(pointer)?.flushingSink?.flush() ?? Status.internalError } : nil,
                health: { pointer in InstanceBox.from(pointer)?.sink?.health() ?? Status.internalError },
                last_error: InstanceBox.lastError,
                destroy: InstanceBox.destroy,
                read_back: Sink.self is any ReadableAuditSink.Type
                    ? { pointer, chainID, from, visit, context in
                        guard let sink = InstanceBox.from(pointer)?.readableSink else { return Status.internalError }
                        return sink.readBack(chainID: chainID, from: from, visit: visit, context: context)
                    } : nil,
                reopen: Sink.self is any ReopeningAuditSink.Type
                    ? { pointer in InstanceBox.from(pointer)?.reopeningSink?.reopen() ?? Status.internalError } : nil))
    }
}
