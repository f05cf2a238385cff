import LaForgeABI
import PluginABI

/// What the host's `laforge_instance *` points to: the plugin's instance and, looked up once at
/// `create`, the capability views the vtable functions call. The vtable functions are C function
/// pointers and cannot be generic, so they reach the instance through these existentials instead
/// of a per-plugin copy of the glue.
final class InstanceBox {
    let instance: any PluginInstance
    let sink: (any AuditSinkPlugin)?
    let flushingSink: (any FlushingAuditSink)?
    let readableSink: (any ReadableAuditSink)?
    let reopeningSink: (any ReopeningAuditSink)?
    let secretBackend: (any SecretBackendPlugin)?
    let connector: (any IdPConnectorPlugin)?

    init(_ instance: any PluginInstance) {
        self.instance = instance
        sink = instance as? any AuditSinkPlugin
        flushingSink = instance as? any FlushingAuditSink
        readableSink = instance as? any ReadableAuditSink
        reopeningSink = instance as? any ReopeningAuditSink
        secretBackend = instance as? any SecretBackendPlugin
        connector = instance as? any IdPConnectorPlugin
    }

    /// The box behind a pointer `create` handed out; nil for NULL. Not retained: the host's
    /// reference lasts until `destroy`.
    static func from(_ pointer: OpaquePointer?) -> InstanceBox? {
        pointer.map { Unmanaged<InstanceBox>.fromOpaque(UnsafeRawPointer($0)).takeUnretainedValue() }
    }

    /// `last_error` for every vtable: never NULL.
    static let lastError: @convention(c) (OpaquePointer?) -> UnsafePointer<CChar>? = { pointer in
        from(pointer)?.instance.lastError.current ?? LastErrorBuffer.none
    }

    /// `destroy` for every vtable: the host's reference goes, and with it the instance.
    static let destroy: @convention(c) (OpaquePointer?) -> Void = { pointer in
        guard let pointer else { return }
        Unmanaged<InstanceBox>.fromOpaque(UnsafeRawPointer(pointer)).release()
    }
}
