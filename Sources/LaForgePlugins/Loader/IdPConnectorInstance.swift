import LaForgeCore
import PluginABI

/// A created IdP-connector instance of a plugin (ABI 1.1). Every buffer the plugin hands out is
/// parsed as JSON and released (zeroed) through the plugin's release() inside the same gated call.
///
/// Sessions carry tokens; once parsed they live in ordinary Swift strings, which the host keeps
/// only as long as it needs them (the token cache on disk is mode 0600).
public final class IdPConnectorInstance: @unchecked Sendable {
    // @unchecked: all plugin calls go through the handle's gate.
    let handle: PluginInstanceHandle
    private let vtable: laforge_idp_connector_vtable

    public var name: String { handle.name }
    public var library: PluginLibrary { handle.library }

    init(name: String, library: PluginLibrary, configJSON: PluginConfigJSON, context: PluginHostContext) throws(PluginLoadError) {
        guard let vtable = library.descriptor.idpConnector else {
            throw PluginLoadError(.missingCapability, library: library.path, instance: name, "does not offer an IdP connector")
        }
        self.vtable = vtable
        handle = try PluginInstanceHandle(
            name: name, library: library, configJSON: configJSON,
            concurrent: vtable.threading == LAFORGE_THREADING_CONCURRENT, context: context,
            create: vtable.create!, lastError: vtable.last_error!, destroy: vtable.destroy!)
    }

    public var supportsAuthorizationCode: Bool { vtable.login_start != nil }
    public var supportsRefresh: Bool { vtable.refresh != nil }
    public var supportsDeviceCode: Bool { vtable.device_start != nil }

    /// Validates a bearer token; the identity object on success. A refused token is
    /// `.failed(.accessDenied)` with the plugin's reason as the message.
    public func validateToken(_ token: String) throws(PluginCallError) -> JSONValue {
        let validate = vtable.validate_token!
        return try handle.call("validate_token") { () throws(PluginCallError) -> JSONValue in
            var buffer = laforge_buffer()
            var bytes = Array(token.utf8)
            let code = bytes.withUnsafeBufferPointer { pointer in
                validate(handle.handle, laforge_bytes(data: pointer.baseAddress, len: pointer.count), &buffer)
            }
            bytes.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
            return try takeObject(&buffer, code: code, function: "validate_token")
        }
    }

    public func loginStart(_ request: JSONValue) throws(PluginCallError) -> JSONValue {
        try jsonCall("login_start", vtable.login_start, request)
    }

    public func loginCallback(_ request: JSONValue) throws(PluginCallError) -> JSONValue {
        try jsonCall("login_callback", vtable.login_callback, request)
    }

    public func deviceStart(_ request: JSONValue) throws(PluginCallError) -> JSONValue {
        try jsonCall("device_start", vtable.device_start, request)
    }

    /// `.failed(.retry)` while the user has not approved yet (message: authorization_pending or
    /// slow_down).
    public func devicePoll(_ request: JSONValue) throws(PluginCallError) -> JSONValue {
        try jsonCall("device_poll", vtable.device_poll, request)
    }

    public func refresh(connectorData: String) throws(PluginCallError) -> JSONValue {
        guard let refresh = vtable.refresh else { throw unsupported("refresh") }
        return try handle.call("refresh") { () throws(PluginCallError) -> JSONValue in
            var buffer = laforge_buffer()
            let bytes = Array(connectorData.utf8)
            let code = bytes.withUnsafeBufferPointer { pointer in
                refresh(handle.handle, laforge_bytes(data: pointer.baseAddress, len: pointer.count), &buffer)
            }
            return try takeObject(&buffer, code: code, function: "refresh")
        }
    }

    public func close() { handle.close() }

    private typealias JSONFunction = @convention(c) (
        OpaquePointer?, UnsafePointer<CChar>?, UnsafeMutablePointer<laforge_buffer>?
    ) -> Int32

    private func jsonCall(_ function: String, _ pointer: JSONFunction?, _ request: JSONValue) throws(PluginCallError) -> JSONValue {
        guard let pointer else { throw unsupported(function) }
        let text = JSONCanonicalizer.canonicalString(request)
        return try handle.call(function) { () throws(PluginCallError) -> JSONValue in
            var buffer = laforge_buffer()
            let code = text.withCString { pointer(handle.handle, $0, &buffer) }
            return try takeObject(&buffer, code: code, function: function)
        }
    }

    private func unsupported(_ function: String) -> PluginCallError {
        PluginCallError(.failed(.unsupported), instance: name, function: function, "the connector does not offer \(function)")
    }

    /// Checks the status, parses the plugin's buffer as a JSON object, and releases it in every case.
    private func takeObject(_ buffer: inout laforge_buffer, code: Int32, function: String) throws(PluginCallError) -> JSONValue {
        defer { release(&buffer) }
        try handle.check(code, function)
        guard let data = buffer.data, buffer.len > 0 else {
            throw PluginCallError(.protocolViolation, instance: name, function: function, "returned OK with an empty buffer")
        }
        let value: JSONValue
        do {
            // Parsed in place: the plugin's buffer stays valid until release().
            var reader = JSONByteReader(bytes: UnsafeBufferPointer(start: data, count: buffer.len))
            value = try reader.parseDocument()
        } catch {
            throw PluginCallError(.protocolViolation, instance: name, function: function, "returned invalid JSON: \(error)")
        }
        guard case .object = value else {
            throw PluginCallError(.protocolViolation, instance: name, function: function, "returned JSON that is not an object")
        }
        return value
    }

    private func release(_ buffer: inout laforge_buffer) {
        guard buffer.data != nil || buffer.opaque != nil else { return }
        vtable.release!(handle.handle, &buffer)
        buffer = laforge_buffer()
    }
}
