import PluginABI

/// Checks a plugin's descriptor and vtables before the host calls anything in them, so a
/// half-built plugin is refused with a message that says exactly what is missing (Falco's
/// CAP_BROKEN lesson) instead of crashing later on a NULL pointer.
struct DescriptorValidator {
    let library: String

    static let descriptorSize10 =
        MemoryLayout<laforge_plugin_descriptor>.offset(of: \.secret_backend)!
        + MemoryLayout<UnsafeRawPointer>.size
    static let auditSinkVtableSize10 =
        MemoryLayout<laforge_audit_sink_vtable>.offset(of: \.destroy)!
        + MemoryLayout<UnsafeRawPointer>.size
    static let secretBackendVtableSize10 =
        MemoryLayout<laforge_secret_backend_vtable>.offset(of: \.destroy)!
        + MemoryLayout<UnsafeRawPointer>.size
    static let descriptorSize11 =
        MemoryLayout<laforge_plugin_descriptor>.offset(of: \.idp_connector)!
        + MemoryLayout<UnsafeRawPointer>.size
    static let idpConnectorVtableSize11 =
        MemoryLayout<laforge_idp_connector_vtable>.offset(of: \.destroy)!
        + MemoryLayout<UnsafeRawPointer>.size

    private func malformed(_ message: String) -> PluginLoadError {
        PluginLoadError(.malformedDescriptor, library: library, message)
    }

    func validate(_ raw: UnsafeRawPointer) throws(PluginLoadError) -> PluginDescriptor {
        // The first three fields are frozen for every major: read them before trusting the size.
        let declaredSize = Int(raw.loadUnaligned(as: UInt32.self))
        let major = Int(raw.loadUnaligned(fromByteOffset: 4, as: UInt16.self))
        let minor = Int(raw.loadUnaligned(fromByteOffset: 6, as: UInt16.self))
        let abi = ABIVersion(major: major, minor: minor)
        if let problem = abi.incompatibility() {
            throw PluginLoadError(.incompatible, library: library, problem)
        }
        guard declaredSize >= Self.descriptorSize10 else {
            throw malformed(
                "descriptor struct_size is \(declaredSize) bytes, smaller than ABI 1.0's "
                    + "\(Self.descriptorSize10): set struct_size = sizeof(laforge_plugin_descriptor) "
                    + "and rebuild against laforge_plugin.h 1.0 or later")
        }
        let (descriptor, _) = copySizePrefixed(raw, into: laforge_plugin_descriptor())

        guard let namePointer = descriptor.name else { throw malformed("descriptor name is NULL") }
        let name = String(cString: namePointer)
        guard isValidPluginName(name) else {
            throw malformed("descriptor name \"\(name)\" must match [a-z0-9][a-z0-9_-]* (at most 64 characters)")
        }
        guard let versionPointer = descriptor.version else {
            throw malformed("descriptor version is NULL (give the plugin's semver, e.g. \"1.0.0\")")
        }

        let knownBits = PluginCapability.allCases.reduce(UInt64(0)) { $0 | $1.bit }
        var capabilities: [PluginCapability] = []
        var auditSink: laforge_audit_sink_vtable?
        var secretBackend: laforge_secret_backend_vtable?
        var idpConnector: laforge_idp_connector_vtable?

        if descriptor.capabilities & PluginCapability.auditSink.bit != 0 {
            auditSink = try validateAuditSink(descriptor.audit_sink)
            capabilities.append(.auditSink)
        } else if descriptor.audit_sink != nil {
            throw malformed("audit_sink vtable is set but LAFORGE_CAP_AUDIT_SINK is not in capabilities")
        }
        if descriptor.capabilities & PluginCapability.secretBackend.bit != 0 {
            secretBackend = try validateSecretBackend(descriptor.secret_backend)
            capabilities.append(.secretBackend)
        } else if descriptor.secret_backend != nil {
            throw malformed("secret_backend vtable is set but LAFORGE_CAP_SECRET_BACKEND is not in capabilities")
        }
        if descriptor.capabilities & PluginCapability.idpConnector.bit != 0 {
            // A 1.0-sized descriptor has no idp_connector field (copySizePrefixed left it NULL).
            guard declaredSize >= Self.descriptorSize11 else {
                throw malformed(
                    "LAFORGE_CAP_IDP_CONNECTOR is set but the descriptor is \(declaredSize) bytes, too small to hold "
                        + "the idp_connector vtable pointer (ABI 1.1, \(Self.descriptorSize11) bytes)")
            }
            guard minor >= 1 else {
                throw malformed("offers an IdP connector (ABI 1.1) but declares abi_minor 0: set abi_minor = 1")
            }
            idpConnector = try validateIdPConnector(descriptor.idp_connector)
            capabilities.append(.idpConnector)
        } else if declaredSize >= Self.descriptorSize11, descriptor.idp_connector != nil {
            throw malformed("idp_connector vtable is set but LAFORGE_CAP_IDP_CONNECTOR is not in capabilities")
        }
        let unknownBits = descriptor.capabilities & ~knownBits
        if capabilities.isEmpty {
            throw malformed(
                "declares no capability this host knows (capabilities = 0x\(String(descriptor.capabilities, radix: 16)))")
        }

        return PluginDescriptor(
            name: name,
            version: String(cString: versionPointer),
            description: descriptor.description.map { String(cString: $0) } ?? "",
            license: descriptor.license.map { String(cString: $0) } ?? "",
            abi: abi,
            capabilities: capabilities,
            unknownCapabilityBits: unknownBits,
            auditSink: auditSink,
            secretBackend: secretBackend,
            idpConnector: idpConnector)
    }

    private func validateAuditSink(
        _ pointer: UnsafePointer<laforge_audit_sink_vtable>?
    ) throws(PluginLoadError) -> laforge_audit_sink_vtable {
        guard let pointer else {
            throw malformed("LAFORGE_CAP_AUDIT_SINK is set but the audit_sink vtable is NULL")
        }
        let (vtable, size) = copySizePrefixed(UnsafeRawPointer(pointer), into: laforge_audit_sink_vtable())
        guard size >= Self.auditSinkVtableSize10 else {
            throw malformed(
                "audit_sink vtable struct_size is \(size) bytes, smaller than ABI 1.0's \(Self.auditSinkVtableSize10)")
        }
        try checkThreading(vtable.threading, vtable: "audit_sink")
        var missing: [String] = []
        if vtable.create == nil { missing.append("create") }
        if vtable.write == nil { missing.append("write") }
        if vtable.last_error == nil { missing.append("last_error") }
        if vtable.destroy == nil { missing.append("destroy") }
        if !missing.isEmpty {
            throw malformed(
                "audit_sink vtable is incomplete: required function\(missing.count > 1 ? "s" : "") "
                    + missing.joined(separator: ", ") + " NULL (only flush and health may be NULL)")
        }
        return vtable
    }

    private func validateSecretBackend(
        _ pointer: UnsafePointer<laforge_secret_backend_vtable>?
    ) throws(PluginLoadError) -> laforge_secret_backend_vtable {
        guard let pointer else {
            throw malformed("LAFORGE_CAP_SECRET_BACKEND is set but the secret_backend vtable is NULL")
        }
        let (vtable, size) = copySizePrefixed(
            UnsafeRawPointer(pointer), into: laforge_secret_backend_vtable())
        guard size >= Self.secretBackendVtableSize10 else {
            throw malformed(
                "secret_backend vtable struct_size is \(size) bytes, smaller than ABI 1.0's \(Self.secretBackendVtableSize10)")
        }
        try checkThreading(vtable.threading, vtable: "secret_backend")
        var missing: [String] = []
        if vtable.create == nil { missing.append("create") }
        if vtable.release == nil { missing.append("release") }
        if vtable.last_error == nil { missing.append("last_error") }
        if vtable.destroy == nil { missing.append("destroy") }
        if !missing.isEmpty {
            throw malformed(
                "secret_backend vtable is incomplete: required function\(missing.count > 1 ? "s" : "") "
                    + missing.joined(separator: ", ") + " NULL")
        }
        if (vtable.encrypt == nil) != (vtable.decrypt == nil) {
            throw malformed("secret_backend vtable sets only one of encrypt and decrypt: set both or neither")
        }
        if vtable.get_secret == nil && vtable.encrypt == nil {
            throw malformed("secret_backend vtable offers neither get_secret nor encrypt/decrypt")
        }
        if vtable.generate_data_key != nil && vtable.encrypt == nil {
            throw malformed("secret_backend vtable sets generate_data_key without encrypt/decrypt")
        }
        return vtable
    }

    private func validateIdPConnector(
        _ pointer: UnsafePointer<laforge_idp_connector_vtable>?
    ) throws(PluginLoadError) -> laforge_idp_connector_vtable {
        guard let pointer else {
            throw malformed("LAFORGE_CAP_IDP_CONNECTOR is set but the idp_connector vtable is NULL")
        }
        let (vtable, size) = copySizePrefixed(UnsafeRawPointer(pointer), into: laforge_idp_connector_vtable())
        guard size >= Self.idpConnectorVtableSize11 else {
            throw malformed(
                "idp_connector vtable struct_size is \(size) bytes, smaller than ABI 1.1's \(Self.idpConnectorVtableSize11)")
        }
        try checkThreading(vtable.threading, vtable: "idp_connector")
        var missing: [String] = []
        if vtable.create == nil { missing.append("create") }
        if vtable.validate_token == nil { missing.append("validate_token") }
        if vtable.release == nil { missing.append("release") }
        if vtable.last_error == nil { missing.append("last_error") }
        if vtable.destroy == nil { missing.append("destroy") }
        if !missing.isEmpty {
            throw malformed(
                "idp_connector vtable is incomplete: required function\(missing.count > 1 ? "s" : "") "
                    + missing.joined(separator: ", ") + " NULL (only the login, refresh and device functions may be NULL)")
        }
        if (vtable.login_start == nil) != (vtable.login_callback == nil) {
            throw malformed("idp_connector vtable sets only one of login_start and login_callback: set both or neither")
        }
        if (vtable.device_start == nil) != (vtable.device_poll == nil) {
            throw malformed("idp_connector vtable sets only one of device_start and device_poll: set both or neither")
        }
        return vtable
    }

    private func checkThreading(_ value: UInt32, vtable: String) throws(PluginLoadError) {
        guard value == LAFORGE_THREADING_SERIAL || value == LAFORGE_THREADING_CONCURRENT else {
            throw malformed(
                "\(vtable) vtable threading is \(value): use LAFORGE_THREADING_SERIAL (0) or LAFORGE_THREADING_CONCURRENT (1)")
        }
    }
}

func isValidPluginName(_ name: String) -> Bool {
    let bytes = Array(name.utf8)
    guard let first = bytes.first, bytes.count <= 64 else { return false }
    func isLowerAlnum(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
            || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
    }
    return isLowerAlnum(first)
        && bytes.allSatisfy { isLowerAlnum($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") }
}
