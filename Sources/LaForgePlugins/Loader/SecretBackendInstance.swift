import LaForgeCore
import PluginABI

/// A created secret-backend instance of a plugin. Every buffer the plugin hands out is copied
/// into a `SecretValue` (or plain bytes for ciphertext) and released (zeroed) through the
/// plugin's release() inside the same gated call.
public final class SecretBackendInstance: @unchecked Sendable {
    // @unchecked: all plugin calls go through the handle's gate.
    let handle: PluginInstanceHandle
    private let vtable: laforge_secret_backend_vtable

    public var name: String { handle.name }
    public var library: PluginLibrary { handle.library }

    init(name: String, library: PluginLibrary, configJSON: PluginConfigJSON, context: PluginHostContext) throws(PluginLoadError) {
        guard let vtable = library.descriptor.secretBackend else {
            throw PluginLoadError(.missingCapability, library: library.path, instance: name, "does not offer a secret backend")
        }
        self.vtable = vtable
        handle = try PluginInstanceHandle(
            name: name, library: library, configJSON: configJSON,
            concurrent: vtable.threading == LAFORGE_THREADING_CONCURRENT, context: context,
            create: vtable.create!, lastError: vtable.last_error!, destroy: vtable.destroy!)
    }

    public var supportsGetSecret: Bool { vtable.get_secret != nil }
    public var supportsEncryption: Bool { vtable.encrypt != nil }

    public func getSecret(_ name: String) throws(PluginCallError) -> SecretValue {
        guard let getSecret = vtable.get_secret else { throw unsupported("get_secret") }
        return try handle.call("get_secret") { () throws(PluginCallError) -> SecretValue in
            var buffer = laforge_buffer()
            let code = name.withCString { getSecret(handle.handle, $0, &buffer) }
            return try takeBuffer(&buffer, code: code, function: "get_secret", as: SecretValue.init(bytes:))
        }
    }

    /// Encrypts secret plaintext: the plugin reads it straight from the `SecretValue`.
    public func encrypt(keyID: String?, plaintext: SecretValue, context: [UInt8]) throws(PluginCallError) -> [UInt8] {
        try plaintext.withUnsafeBytes { bytes in
            Result { () throws(PluginCallError) in try encrypt(keyID: keyID, plaintext: bytes, context: context) }
        }.get()
    }

    /// Encrypts plaintext that is not secret to the caller (tests, conformance probes); secret
    /// bytes go through the `SecretValue` overload, so no array copy of them is made.
    public func encrypt(keyID: String?, plaintext: [UInt8], context: [UInt8]) throws(PluginCallError) -> [UInt8] {
        try plaintext.withUnsafeBytes { bytes in
            Result { () throws(PluginCallError) in try encrypt(keyID: keyID, plaintext: bytes, context: context) }
        }.get()
    }

    private func encrypt(keyID: String?, plaintext: UnsafeRawBufferPointer, context: [UInt8]) throws(PluginCallError) -> [UInt8] {
        guard let encrypt = vtable.encrypt else { throw unsupported("encrypt") }
        return try keyOperation("encrypt", keyID: keyID, input: plaintext, context: context, output: { Array($0) }) { key, input, ctx, out in
            encrypt(handle.handle, key, input, ctx, out)
        }
    }

    /// The plaintext goes from the plugin's buffer into the `SecretValue` directly (the plugin then
    /// zeroes its buffer in release): no intermediate copy exists to be left in the heap.
    public func decrypt(keyID: String?, ciphertext: [UInt8], context: [UInt8]) throws(PluginCallError) -> SecretValue {
        guard let decrypt = vtable.decrypt else { throw unsupported("decrypt") }
        return try ciphertext.withUnsafeBytes { input in
            Result { () throws(PluginCallError) in
                try keyOperation("decrypt", keyID: keyID, input: input, context: context, output: SecretValue.init(bytes:)) { key, input, ctx, out in
                    decrypt(handle.handle, key, input, ctx, out)
                }
            }
        }.get()
    }

    /// A fresh data key and its wrapped form; nil when the plugin leaves generation to the host.
    public func generateDataKey(
        keyID: String?, length: Int, context: [UInt8]
    ) throws(PluginCallError) -> (plaintext: SecretValue, wrapped: [UInt8])? {
        guard let generate = vtable.generate_data_key else { return nil }
        return try handle.call("generate_data_key") { () throws(PluginCallError) -> (SecretValue, [UInt8]) in
            var plain = laforge_buffer()
            var wrapped = laforge_buffer()
            let code = withOptionalCString(keyID) { key in
                context.withUnsafeBufferPointer { ctx in
                    generate(handle.handle, key, length, laforge_bytes(data: ctx.baseAddress, len: ctx.count), &plain, &wrapped)
                }
            }
            defer { release(&wrapped) }
            let key = try takeBuffer(&plain, code: code, function: "generate_data_key", as: SecretValue.init(bytes:))
            guard key.count == length else {
                throw PluginCallError(
                    .protocolViolation, instance: name, function: "generate_data_key",
                    "returned a \(key.count)-byte key, \(length) asked")
            }
            guard let data = wrapped.data else {
                throw PluginCallError(.protocolViolation, instance: name, function: "generate_data_key", "returned no wrapped key")
            }
            return (key, Array(UnsafeBufferPointer(start: data, count: wrapped.len)))
        }
    }

    public func close() { handle.close() }

    private func unsupported(_ function: String) -> PluginCallError {
        PluginCallError(.failed(.unsupported), instance: name, function: function, "the plugin does not offer \(function)")
    }

    /// One encrypt/decrypt call; `output` turns the plugin's buffer into the result before the
    /// buffer is released.
    private func keyOperation<Output>(
        _ function: String, keyID: String?, input: UnsafeRawBufferPointer, context: [UInt8],
        output: (UnsafeBufferPointer<UInt8>) -> Output,
        _ body: (UnsafePointer<CChar>?, laforge_bytes, laforge_bytes, UnsafeMutablePointer<laforge_buffer>) -> Int32
    ) throws(PluginCallError) -> Output {
        try handle.call(function) { () throws(PluginCallError) -> Output in
            var buffer = laforge_buffer()
            let code = withOptionalCString(keyID) { key in
                context.withUnsafeBufferPointer { contextBytes in
                    body(
                        key, laforge_bytes(data: input.baseAddress?.assumingMemoryBound(to: UInt8.self), len: input.count),
                        laforge_bytes(data: contextBytes.baseAddress, len: contextBytes.count), &buffer)
                }
            }
            return try takeBuffer(&buffer, code: code, function: function, as: output)
        }
    }

    /// Checks the status, copies the plugin's buffer out, and releases it (zeroed) in every case.
    private func takeBuffer<T>(
        _ buffer: inout laforge_buffer, code: Int32, function: String, as make: (UnsafeBufferPointer<UInt8>) -> T
    ) throws(PluginCallError) -> T {
        defer { release(&buffer) }
        try handle.check(code, function)
        guard let data = buffer.data else {
            if buffer.len == 0 { return make(UnsafeBufferPointer(start: nil, count: 0)) }
            throw PluginCallError(.protocolViolation, instance: name, function: function, "returned OK with a NULL buffer")
        }
        return make(UnsafeBufferPointer(start: data, count: buffer.len))
    }

    private func release(_ buffer: inout laforge_buffer) {
        guard buffer.data != nil || buffer.opaque != nil else { return }
        vtable.release!(handle.handle, &buffer)
        buffer = laforge_buffer()
    }
}

private func withOptionalCString<R>(_ string: String?, _ body: (UnsafePointer<CChar>?) -> R) -> R {
    guard let string else { return body(nil) }
    return string.withCString(body)
}
