import Glibc
import PluginABI

// The plugin's one export and its static descriptor (ABI 1.1: the IdP connector capability).
// Every vtable function is a non-capturing closure converted to a C function pointer; none lets
// a Swift error out (each failure becomes a status code and a last_error message).

private func instance(_ pointer: OpaquePointer?) -> OIDCConnectorInstance? {
    pointer.map { Unmanaged<OIDCConnectorInstance>.fromOpaque(UnsafeRawPointer($0)).takeUnretainedValue() }
}

private nonisolated(unsafe) let emptyCString = staticCString("")

/// Hands `bytes` to the host in a malloc'd buffer that release() zeroes and frees.
private func fill(_ out: UnsafeMutablePointer<laforge_buffer>?, _ bytes: [UInt8]) -> Int32 {
    guard let out, let memory = malloc(max(bytes.count, 1))?.assumingMemoryBound(to: UInt8.self) else {
        return Status.internalError
    }
    bytes.withUnsafeBufferPointer { memory.update(from: $0.baseAddress!, count: $0.count) }
    out.pointee = laforge_buffer(data: memory, len: bytes.count, opaque: nil)
    return Status.ok
}

/// Runs one operation that produces JSON for the host, mapping every failure to a status.
private func run(
    _ pointer: OpaquePointer?, _ out: UnsafeMutablePointer<laforge_buffer>?,
    _ body: (OIDCConnectorInstance) throws(ConnectorError) -> [UInt8]
) -> Int32 {
    guard let connector = instance(pointer) else { return Status.internalError }
    do throws(ConnectorError) {
        return fill(out, try body(connector))
    } catch {
        return connector.fail(error)
    }
}

private func requestJSON(_ text: UnsafePointer<CChar>?) throws(ConnectorError) -> JSONValue {
    guard let text else { throw ConnectorError(Status.invalidArgument, "request_json is NULL") }
    do { return try JSONReader.parse(Array(UnsafeRawBufferPointer(start: text, count: strlen(text)))) } catch {
        throw ConnectorError(Status.invalidArgument, "request_json is not JSON: \(error.description)")
    }
}

private func borrowed(_ bytes: laforge_bytes) -> [UInt8] {
    guard let data = bytes.data else { return [] }
    return Array(UnsafeBufferPointer(start: data, count: bytes.len))
}

private nonisolated(unsafe) let idpConnectorVTable: UnsafeMutablePointer<laforge_idp_connector_vtable> = {
    let table = UnsafeMutablePointer<laforge_idp_connector_vtable>.allocate(capacity: 1)
    table.initialize(
        to: laforge_idp_connector_vtable(
            struct_size: UInt32(MemoryLayout<laforge_idp_connector_vtable>.size),
            threading: LAFORGE_THREADING_CONCURRENT,
            config_schema: staticCString(OIDCConfig.schema),
            create: { configJSON, configLength, host, out in
                guard let out else { return Status.invalidArgument }
                let connector = OIDCConnectorInstance(host: HostServices(host))
                // Hand the instance out even on failure, so the host can read last_error.
                out.pointee = OpaquePointer(Unmanaged.passRetained(connector).toOpaque())
                guard let configJSON else {
                    return connector.fail(ConnectorError(Status.invalidArgument, "create: config_json is NULL"))
                }
                do throws(ConnectorError) {
                    try connector.configure(Array(UnsafeRawBufferPointer(start: configJSON, count: configLength)))
                } catch {
                    return connector.fail(error)
                }
                return Status.ok
            },
            validate_token: { pointer, token, out in
                run(pointer, out) { connector throws(ConnectorError) in
                    guard let data = token.data, token.len > 0 else { throw .denied("the token is empty") }
                    guard token.len <= 64 << 10 else { throw .denied("the token is longer than 64 KiB") }
                    return try connector.validateToken(Array(UnsafeBufferPointer(start: data, count: token.len)))
                }
            },
            login_start: { pointer, request, out in
                run(pointer, out) { connector throws(ConnectorError) in try connector.loginStart(requestJSON(request)) }
            },
            login_callback: { pointer, request, out in
                run(pointer, out) { connector throws(ConnectorError) in try connector.loginCallback(requestJSON(request)) }
            },
            refresh: { pointer, data, out in
                run(pointer, out) { connector throws(ConnectorError) in try connector.refresh(borrowed(data)) }
            },
            device_start: { pointer, request, out in
                run(pointer, out) { connector throws(ConnectorError) in try connector.deviceStart(requestJSON(request)) }
            },
            device_poll: { pointer, request, out in
                run(pointer, out) { connector throws(ConnectorError) in try connector.devicePoll(requestJSON(request)) }
            },
            release: { _, buffer in
                guard let buffer, let data = buffer.pointee.data else { return }
                explicit_bzero(data, buffer.pointee.len)  // sessions hold tokens
                free(data)
                buffer.pointee = laforge_buffer()
            },
            last_error: { pointer in
                instance(pointer)?.lastError ?? emptyCString
            },
            destroy: { pointer in
                guard let pointer else { return }
                Unmanaged<OIDCConnectorInstance>.fromOpaque(UnsafeRawPointer(pointer)).release()
            }))
    return table
}()

private nonisolated(unsafe) let pluginDescriptor: UnsafeMutablePointer<laforge_plugin_descriptor> = {
    let descriptor = UnsafeMutablePointer<laforge_plugin_descriptor>.allocate(capacity: 1)
    descriptor.initialize(
        to: laforge_plugin_descriptor(
            struct_size: UInt32(MemoryLayout<laforge_plugin_descriptor>.size),
            abi_major: UInt16(LAFORGE_ABI_VERSION_MAJOR),
            abi_minor: 1,  // the IdP connector capability is ABI 1.1
            name: staticCString("oidc-connector"),
            version: staticCString("1.0.0"),
            description: staticCString("IdP connector: OpenID Connect token validation (JWKS), code+PKCE login, refresh, device flow"),
            license: staticCString("Apache-2.0"),
            capabilities: UInt64(LAFORGE_CAP_IDP_CONNECTOR),
            audit_sink: nil,
            secret_backend: nil,
            idp_connector: UnsafePointer(idpConnectorVTable)))
    return descriptor
}()

private nonisolated(unsafe) let refusalReason = staticCString("the OIDC connector needs a LaForge host with plugin ABI 1.1 or later (1.x)")

/// `laforge_plugin_entry`: the descriptor, or NULL for a host that cannot load an IdP connector.
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
    guard info.abi_major == UInt16(LAFORGE_ABI_VERSION_MAJOR), info.abi_minor >= 1 else {
        refusal?.pointee = refusalReason
        return nil
    }
    return UnsafePointer(pluginDescriptor)
}
