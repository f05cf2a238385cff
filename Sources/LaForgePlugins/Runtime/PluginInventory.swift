import Foundation
import LaForgeCore

/// What `laforge plugins list` shows: each configured instance's library, loaded (never
/// created) so a broken plugin is reported next to the working ones.
public struct PluginListing: Sendable {
    public var instance: String
    public var role: PluginInstanceConfig.Role
    public var library: String
    public var path: String?
    public var descriptor: PluginDescriptor?
    public var signature: PluginSignature.Verdict?
    public var error: PluginLoadError?

    public func jsonValue() -> JSONValue {
        var object: [String: JSONValue] = [
            "instance": .string(instance),
            "role": .string(role.capability.rawValue),
            "library": .string(library),
        ]
        if let path { object["path"] = .string(path) }
        if let descriptor { object["plugin"] = descriptor.jsonValue(includeSchemas: false) }
        if let signature { object["signature"] = .string(signature.description) }
        if let error { object["error"] = .string(error.description) }
        return .object(object)
    }
}

public enum PluginInventory {
    public static func list(config: LaForgeConfig, options: PluginRuntime.Options) -> [PluginListing] {
        let resolver = PluginPathResolver(directory: PluginRuntime.pluginDirectory(for: config, options: options))
        let trustedKeys = config.trustedKeys.compactMap { try? Ed25519VerifierKey(name: $0.name, publicKey: $0.publicKey) }
        return config.pluginInstances.map { instance in
            var listing = PluginListing(instance: instance.name, role: instance.role, library: instance.library)
            do throws(PluginLoadError) {
                let path = try resolver.resolve(instance.library)
                listing.path = path
                listing.signature = PluginSignature.verify(libraryAt: path, trustedKeys: trustedKeys)
                listing.descriptor = try PluginLibrary.open(path: path).descriptor
            } catch {
                var located = error
                located.instance = instance.name
                listing.error = located
            }
            return listing
        }
    }

    /// Resolves a library named on the command line: a path when it contains "/", else a
    /// name inside the plugin directory.
    public static func resolveCommandLineLibrary(_ library: String, pluginDirectory: String) throws(PluginLoadError) -> String {
        if library.contains("/") {
            return library.hasPrefix("/")
                ? library : (FileManager.default.currentDirectoryPath as NSString).appendingPathComponent(library)
        }
        return try PluginPathResolver(directory: pluginDirectory).resolve(library)
    }
}

extension PluginDescriptor {
    public func jsonValue(includeSchemas: Bool) -> JSONValue {
        var object: [String: JSONValue] = [
            "name": .string(name),
            "version": .string(version),
            "description": .string(description),
            "license": .string(license),
            "abi": .string(abi.description),
            "capabilities": .array(capabilities.map { .string($0.rawValue) }),
        ]
        if unknownCapabilityBits != 0 {
            object["unknown_capability_bits"] = .string("0x" + String(unknownCapabilityBits, radix: 16))
        }
        var details: [String: JSONValue] = [:]
        for capability in capabilities {
            var detail: [String: JSONValue] = [
                "threading": .string(isConcurrent(capability) ? "concurrent" : "serial")
            ]
            if capability == .secretBackend {
                detail["operations"] = .array(secretBackendOperations.map(JSONValue.string))
            }
            if capability == .idpConnector {
                detail["flows"] = .array(idpConnectorFlows.map(JSONValue.string))
            }
            if capability == .auditSink {
                detail["optional_functions"] = .object(Dictionary(
                    uniqueKeysWithValues: auditSinkOptionalFunctions.map { ($0.name, JSONValue.bool($0.present)) }))
            }
            if let problem = configSchemaProblem(for: capability) { detail["config_schema_error"] = .string(problem) }
            if includeSchemas {
                let text = configSchemaText(for: capability)
                detail["config_schema"] = text.flatMap { try? JSONParser.parse($0) } ?? (text.map(JSONValue.string) ?? .null)
            }
            details[capability.rawValue] = .object(detail)
        }
        object["capability_details"] = .object(details)
        return .object(object)
    }
}
