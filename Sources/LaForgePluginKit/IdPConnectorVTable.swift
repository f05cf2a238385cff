import LaForgeABI
import PluginABI

/// The IdP connector vtable for an `IdPConnectorPlugin` type: static storage, every slot but
/// `create` one of the kit's functions; `release` zeroes and frees what the kit filled.
public struct IdPConnectorVTable: @unchecked Sendable {
    // @unchecked: the table is written once here and only read afterwards.
    public let pointer: UnsafePointer<laforge_idp_connector_vtable>

    /// `create` is `{ createInstance(Connector.self, $0, $1, $2, $3) }` (see `createInstance`).
    public init<Connector: IdPConnectorPlugin>(
        _ type: Connector.Type, schema: String, threading: UInt32 = LAFORGE_THREADING_SERIAL,
        create: PluginCreateFunction
    ) {
        pointer = staticStorage(
            laforge_idp_connector_vtable(
                struct_size: UInt32(MemoryLayout<laforge_idp_connector_vtable>.size),
                threading: threading,
                config_schema: staticCString(schema),
                create: create,
                validate_token: { pointer, token, out in IdPConnectorCall.validateToken(token).run(on: pointer, out) },
                login_start: { pointer, request, out in IdPConnectorCall.loginStart(request: request).run(on: pointer, out) },
                login_callback: { pointer, request, out in IdPConnectorCall.loginCallback(request: request).run(on: pointer, out) },
                refresh: { pointer, data, out in IdPConnectorCall.refresh(data).run(on: pointer, out) },
                device_start: { pointer, request, out in IdPConnectorCall.deviceStart(request: request).run(on: pointer, out) },
                device_poll: { pointer, request, out in IdPConnectorCall.devicePoll(request: request).run(on: pointer, out) },
                release: { _, buffer in
                    guard let buffer else { return }
                    HostBuffer.release(buffer)
                },
                last_error: InstanceBox.lastError,
                destroy: InstanceBox.destroy))
    }
}
