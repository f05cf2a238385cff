import PluginABI

#if canImport(Glibc)
    import Glibc
#endif

// The plugin's one export and its static descriptor. Every vtable function is a non-capturing
// closure converted to a C function pointer; none lets a Swift error out (each failure becomes
// a status code and a last_error message).

private func instance(_ pointer: OpaquePointer?) -> PostgresAuditInstance? {
    pointer.map { Unmanaged<PostgresAuditInstance>.fromOpaque(UnsafeRawPointer($0)).takeUnretainedValue() }
}

private nonisolated(unsafe) let emptyCString = staticCString("")

private nonisolated(unsafe) let auditSinkVTable: UnsafeMutablePointer<laforge_audit_sink_vtable> = {
    let table = UnsafeMutablePointer<laforge_audit_sink_vtable>.allocate(capacity: 1)
    table.initialize(
        to: laforge_audit_sink_vtable(
            struct_size: UInt32(MemoryLayout<laforge_audit_sink_vtable>.size),
            threading: LAFORGE_THREADING_SERIAL,
            config_schema: staticCString(PostgresAuditConfig.schema),
            create: { configJSON, configLength, host, out in
                guard let out else { return Status.invalidArgument }
                out.pointee = nil
                let sink = PostgresAuditInstance(host: HostServices(host))
                // Hand the instance out even on failure, so the host can read last_error.
                out.pointee = OpaquePointer(Unmanaged.passRetained(sink).toOpaque())
                guard let configJSON else {
                    return sink.fail(PostgresAuditError(Status.invalidArgument, "create: config_json is NULL"))
                }
                let bytes = Array(UnsafeRawBufferPointer(start: configJSON, count: configLength))
                do throws(PostgresAuditError) {
                    try sink.configure(bytes)
                } catch {
                    return sink.fail(error)
                }
                return Status.ok
            },
            write: { pointer, batch, stored in
                guard let sink = instance(pointer) else { return Status.internalError }
                let result = sink.write(batch)
                stored?.pointee = result.stored
                return result.status
            },
            // Every write commits its transaction: nothing is left to flush.
            flush: nil,
            health: { pointer in
                instance(pointer)?.health() ?? Status.internalError
            },
            last_error: { pointer in
                instance(pointer)?.lastError ?? emptyCString
            },
            destroy: { pointer in
                guard let pointer else { return }
                Unmanaged<PostgresAuditInstance>.fromOpaque(UnsafeRawPointer(pointer)).release()
            },
            read_back: { pointer, chainID, from, visit, context in
                guard let sink = instance(pointer) else { return Status.internalError }
                return sink.readBack(chainID: chainID, from: from, visit: visit, context: context)
            }))
    return table
}()

private nonisolated(unsafe) let pluginDescriptor: UnsafeMutablePointer<laforge_plugin_descriptor> = {
    let descriptor = UnsafeMutablePointer<laforge_plugin_descriptor>.allocate(capacity: 1)
    descriptor.initialize(
        to: laforge_plugin_descriptor(
            struct_size: UInt32(MemoryLayout<laforge_plugin_descriptor>.size),
            abi_major: UInt16(LAFORGE_ABI_VERSION_MAJOR),
            abi_minor: 1,  // reads the host's mode (production refuses unverified TLS to remote hosts)
            name: staticCString("postgresaudit"),
            version: staticCString("1.0.0"),
            description: staticCString("Audit sink: append-only PostgreSQL tables written with COPY, read back for verification"),
            license: staticCString("Apache-2.0"),
            capabilities: UInt64(LAFORGE_CAP_AUDIT_SINK),
            audit_sink: UnsafePointer(auditSinkVTable),
            secret_backend: nil,
            idp_connector: nil))
    return descriptor
}()

private nonisolated(unsafe) let refusalReason = staticCString("PostgresAudit is written for LaForge plugin ABI 1.x (1.1 or later)")

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
    let info = copySizePrefixed(UnsafeRawPointer(host), into: laforge_host_info())
    guard info.abi_major == UInt16(LAFORGE_ABI_VERSION_MAJOR) else {
        refusal?.pointee = refusalReason
        return nil
    }
    return UnsafePointer(pluginDescriptor)
}
