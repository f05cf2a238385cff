import LaForgeABI
import PluginABI

/// The secret backend vtable for a `SecretBackendPlugin` type: static storage, every slot but
/// `create` one of the kit's functions.
public struct SecretBackendVTable: @unchecked Sendable {
    // @unchecked: the table is written once here and only read afterwards.
    public let pointer: UnsafePointer<laforge_secret_backend_vtable>

    /// `create` is `{ createInstance(Backend.self, $0, $1, $2, $3) }` (see `createInstance`).
    public init<Backend: SecretBackendPlugin>(
        _ type: Backend.Type, schema: String, threading: UInt32 = LAFORGE_THREADING_SERIAL,
        create: PluginCreateFunction
    ) {
        pointer = staticStorage(
            laforge_secret_backend_vtable(
                struct_size: UInt32(MemoryLayout<laforge_secret_backend_vtable>.size),
                threading: threading,
                config_schema: staticCString(schema),
                create: create,
                get_secret: { pointer, name, out in
                    InstanceBox.from(pointer)?.secretBackend?.getSecret(name, out) ?? Status.internalError
                },
                encrypt: { pointer, keyID, plaintext, context, out in
                    InstanceBox.from(pointer)?.secretBackend?.encrypt(keyID, plaintext, context, out) ?? Status.internalError
                },
                decrypt: { pointer, keyID, ciphertext, context, out in
                    InstanceBox.from(pointer)?.secretBackend?.decrypt(keyID, ciphertext, context, out) ?? Status.internalError
                },
                generate_data_key: { pointer, keyID, length, context, plaintextKey, wrappedKey in
                    InstanceBox.from(pointer)?.secretBackend?.generateDataKey(keyID, length, context, plaintextKey, wrappedKey)
                        ?? Status.internalError
                },
                release: { pointer, buffer in
                    // The host releases inside the call that filled the buffer: the instance is alive.
                    guard let buffer, let backend = InstanceBox.from(pointer)?.secretBackend else { return }
                    Swift.type(of: backend).release(buffer)
                },
                last_error: InstanceBox.lastError,
                destroy: InstanceBox.destroy))
    }
}
