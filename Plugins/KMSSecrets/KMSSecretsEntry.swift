import PluginABI

#if canImport(Glibc)
    import Glibc
#endif

// The plugin's one export and its static descriptor. Every vtable function is a non-capturing
// closure converted to a C function pointer; none lets a Swift error out (each failure becomes
// a status code and a last_error message).

private func instance(_ pointer: OpaquePointer?) -> KMSSecretsInstance? {
    pointer.map { Unmanaged<KMSSecretsInstance>.fromOpaque(UnsafeRawPointer($0)).takeUnretainedValue() }
}

private nonisolated(unsafe) let emptyCString = staticCString("")

private nonisolated(unsafe) let secretBackendVTable: UnsafeMutablePointer<laforge_secret_backend_vtable> = {
    let table = UnsafeMutablePointer<laforge_secret_backend_vtable>.allocate(capacity: 1)
    table.initialize(
        to: laforge_secret_backend_vtable(
            struct_size: UInt32(MemoryLayout<laforge_secret_backend_vtable>.size),
            threading: LAFORGE_THREADING_SERIAL,
            config_schema: staticCString(KMSSecretsConfig.schema),
            create: { configJSON, configLength, host, out in
                guard let out else { return Status.invalidArgument }
                out.pointee = nil
                let backend = KMSSecretsInstance(host: HostServices(host))
                // Hand the instance out even on failure, so the host can read last_error.
                out.pointee = OpaquePointer(Unmanaged.passRetained(backend).toOpaque())
                guard let configJSON else { return backend.fail(KMSError(.invalidArgument, "create: config_json is NULL")) }
                let bytes = Array(UnsafeRawBufferPointer(start: configJSON, count: configLength))
                do throws(KMSError) {
                    try backend.configure(bytes)
                } catch {
                    return backend.fail(error)
                }
                return Status.ok
            },
            get_secret: { pointer, name, out in
                instance(pointer)?.getSecret(name, out) ?? Status.internalError
            },
            encrypt: { pointer, keyID, plaintext, context, out in
                instance(pointer)?.encrypt(keyID, plaintext, context, out) ?? Status.internalError
            },
            decrypt: { pointer, keyID, ciphertext, context, out in
                instance(pointer)?.decrypt(keyID, ciphertext, context, out) ?? Status.internalError
            },
            generate_data_key: { pointer, keyID, length, context, plaintextKey, wrappedKey in
                instance(pointer)?.generateDataKey(keyID, length, context, plaintextKey, wrappedKey) ?? Status.internalError
            },
            release: { _, buffer in
                guard let buffer else { return }
                SecretBytes.release(buffer)
            },
            last_error: { pointer in
                instance(pointer)?.lastError ?? emptyCString
            },
            destroy: { pointer in
                guard let pointer else { return }
                Unmanaged<KMSSecretsInstance>.fromOpaque(UnsafeRawPointer(pointer)).release()
            }))
    return table
}()

private nonisolated(unsafe) let pluginDescriptor: UnsafeMutablePointer<laforge_plugin_descriptor> = {
    let descriptor = UnsafeMutablePointer<laforge_plugin_descriptor>.allocate(capacity: 1)
    descriptor.initialize(
        to: laforge_plugin_descriptor(
            struct_size: UInt32(MemoryLayout<laforge_plugin_descriptor>.size),
            abi_major: UInt16(LAFORGE_ABI_VERSION_MAJOR),
            abi_minor: 0,  // needs nothing newer than ABI 1.0
            name: staticCString("kms-secrets"),
            version: staticCString("1.0.0"),
            description: staticCString(
                "Secret backend: AWS KMS + Secrets Manager, Google Cloud KMS + Secret Manager, Azure Key Vault keys + secrets"),
            license: staticCString("Apache-2.0"),
            capabilities: UInt64(LAFORGE_CAP_SECRET_BACKEND),
            audit_sink: nil,
            secret_backend: UnsafePointer(secretBackendVTable),
            idp_connector: nil))
    return descriptor
}()

private nonisolated(unsafe) let refusalReason = staticCString("KMSSecrets is written for LaForge plugin ABI 1.x")

/// `laforge_plugin_entry`: the descriptor, or NULL for a host of another ABI major.
@_cdecl("laforge_plugin_entry")
public func laforgePluginEntry(
    _ host: UnsafePointer<laforge_host_info>?,
    _ refusal: UnsafeMutablePointer<UnsafePointer<CChar>?>?
) -> UnsafePointer<laforge_plugin_descriptor>? {
    guard let host else {
        refusal?.pointee = refusalReason
        return nil
    }
    var info = laforge_host_info()
    let size = min(Int(host.pointee.struct_size), MemoryLayout<laforge_host_info>.size)
    withUnsafeMutableBytes(of: &info) { $0.copyMemory(from: UnsafeRawBufferPointer(start: UnsafeRawPointer(host), count: size)) }
    guard info.abi_major == UInt16(LAFORGE_ABI_VERSION_MAJOR) else {
        refusal?.pointee = refusalReason
        return nil
    }
    return UnsafePointer(pluginDescriptor)
}
