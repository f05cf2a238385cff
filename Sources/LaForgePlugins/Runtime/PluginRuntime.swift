import Foundation
import LaForgeCore
import Logging

/// The host started from a configuration: every configured plugin loaded, checked, configured
/// and created, secret backends first (sinks may take secrets from them).
///
/// Embedders (the compiler, generated services) and the CLI create one of these; `close()`
/// destroys the instances in reverse order. Libraries stay loaded (they are never unloaded).
public final class PluginRuntime: @unchecked Sendable {
    // @unchecked: immutable after start except for close(), which is idempotent per instance.
    public struct Options: Sendable {
        /// Overrides LAFORGE_PLUGIN_DIR and `plugin_dir` (the CLI's --plugin-dir).
        public var pluginDirectory: String?
        public var environment: [String: String]
        public var logger: Logger
        public var metrics: MetricsRegistry
        /// What an audit sink whose `create` fails does to the start: `.fail` (checking a
        /// configuration: `laforge config validate`), or `.retryInDelivery` (recording and
        /// delivering: the sink waits in `unstartedSinks` and its delivery worker retries
        /// create with backoff while the others deliver).
        public var sinkCreateFailure: SinkCreateFailure

        public init(
            pluginDirectory: String? = nil,
            environment: [String: String] = ProcessInfo.processInfo.environment,
            logger: Logger = .host,
            metrics: MetricsRegistry? = nil,
            sinkCreateFailure: SinkCreateFailure = .fail
        ) {
            self.pluginDirectory = pluginDirectory
            self.environment = environment
            self.logger = logger
            self.metrics = metrics ?? MetricsRegistry(logger: logger)
            self.sinkCreateFailure = sinkCreateFailure
        }
    }

    public enum SinkCreateFailure: Sendable {
        case fail
        case retryInDelivery
    }

    public let config: LaForgeConfig
    public let pluginDirectory: String
    public let secretBackends: [SecretBackendInstance]
    public let sinks: [AuditSinkInstance]
    /// Sinks whose create failed, with `sinkCreateFailure: .retryInDelivery` (in file order).
    public let unstartedSinks: [UnstartedAuditSink]
    /// IdP connector instances (identity.connectors), in file order.
    public let idpConnectors: [IdPConnectorInstance]
    public let metrics: MetricsRegistry
    public let secrets: any SecretResolving
    let logger: Logger

    private init(
        config: LaForgeConfig, pluginDirectory: String, secretBackends: [SecretBackendInstance],
        sinks: [AuditSinkInstance], unstartedSinks: [UnstartedAuditSink], idpConnectors: [IdPConnectorInstance], metrics: MetricsRegistry,
        secrets: any SecretResolving, logger: Logger
    ) {
        self.config = config
        self.pluginDirectory = pluginDirectory
        self.secretBackends = secretBackends
        self.sinks = sinks
        self.unstartedSinks = unstartedSinks
        self.idpConnectors = idpConnectors
        self.metrics = metrics
        self.secrets = secrets
        self.logger = logger
    }

    /// The plugin directory: --plugin-dir, else LAFORGE_PLUGIN_DIR, else `plugin_dir` (relative
    /// to the config file), else the folder of the running executable.
    public static func pluginDirectory(for config: LaForgeConfig, options: Options) -> String {
        if let explicit = options.pluginDirectory, !explicit.isEmpty { return explicit }
        if let fromEnvironment = options.environment["LAFORGE_PLUGIN_DIR"], !fromEnvironment.isEmpty {
            return fromEnvironment
        }
        if let configured = config.pluginDir {
            if configured.hasPrefix("/") { return configured }
            let folder = (config.sourcePath as NSString).deletingLastPathComponent
            return ((folder.isEmpty ? "." : folder) as NSString).appendingPathComponent(configured)
        }
        return PluginPathResolver.defaultDirectory(environment: [:])
    }

    public static func start(config: LaForgeConfig, options: Options = Options()) throws(RuntimeStartError) -> PluginRuntime {
        let directory = pluginDirectory(for: config, options: options)
        let resolver = PluginPathResolver(directory: directory)
        let trustedKeys: [Ed25519VerifierKey]
        do {
            trustedKeys = try config.trustedKeys.map { key throws(KeyFormatError) in
                try Ed25519VerifierKey(name: key.name, publicKey: key.publicKey)
            }
        } catch {
            throw .config([ConfigError(kind: .invalidValue, file: config.sourcePath, mark: nil, path: [.key("trusted_keys")], message: error.message)])
        }
        let secrets = ConfiguredSecretResolver()
        var created: [AnyObject] = []
        func closeCreated() {
            for object in created.reversed() {
                (object as? AuditSinkInstance)?.close()
                (object as? SecretBackendInstance)?.close()
                (object as? IdPConnectorInstance)?.close()
            }
        }

        var backends: [SecretBackendInstance] = []
        var sinks: [AuditSinkInstance] = []
        var unstartedSinks: [UnstartedAuditSink] = []
        var connectors: [IdPConnectorInstance] = []
        do throws(RuntimeStartError) {
            for instance in config.pluginInstances {
                let library = try openLibrary(instance, resolver: resolver, mode: config.mode, trustedKeys: trustedKeys, logger: options.logger)
                let capability = instance.role.capability
                guard library.descriptor.capabilities.contains(capability) else {
                    throw .plugin(PluginLoadError(
                        .missingCapability, library: library.path, instance: instance.name,
                        "is configured as \(instance.role.rawValue) but the plugin \(library.descriptor.name) offers only "
                            + library.descriptor.capabilities.map(\.rawValue).joined(separator: ", ")))
                }
                let check: PluginSchemaCheck
                do { check = try PluginSchemaCheck(schemaText: library.descriptor.configSchemaText(for: capability), library: library.path) }
                catch { throw .plugin(error) }

                let resolvedConfig: YAMLNode?
                do {
                    resolvedConfig = try instance.config?.resolvingSecrets(with: secrets)
                } catch { throw .config([error]) }

                let normalized: PluginConfigJSON
                switch check.normalize(instance, config: resolvedConfig) {
                case .success(let text): normalized = text
                case .failure(let failure): throw .config(failure.errors)
                }
                let context = PluginHostContext(
                    instanceName: instance.name, logger: options.logger, metrics: options.metrics, secrets: secrets,
                    mode: config.mode)
                do {
                    switch capability {
                    case .auditSink:
                        do {
                            let sink = try AuditSinkInstance(name: instance.name, library: library, configJSON: normalized, context: context)
                            sinks.append(sink)
                            created.append(sink)
                        } catch where options.sinkCreateFailure == .retryInDelivery && error.kind == .createFailed {
                            options.logger.error("sink \(instance.name) is not started: \(error.message); its delivery retries with backoff, the other sinks deliver and events are recorded meanwhile")
                            unstartedSinks.append(UnstartedAuditSink(
                                name: instance.name, library: library, configJSON: normalized, context: context, startError: error))
                        }
                    case .secretBackend:
                        let backend = try SecretBackendInstance(name: instance.name, library: library, configJSON: normalized, context: context)
                        backends.append(backend)
                        created.append(backend)
                        secrets.add(backend)
                    case .idpConnector:
                        let connector = try IdPConnectorInstance(
                            name: instance.name, library: library, configJSON: normalized, context: context)
                        connectors.append(connector)
                        created.append(connector)
                    }
                } catch { throw .plugin(error) }
            }
        } catch {
            closeCreated()
            throw error
        }
        return PluginRuntime(
            config: config, pluginDirectory: directory, secretBackends: backends, sinks: sinks,
            unstartedSinks: unstartedSinks, idpConnectors: connectors, metrics: options.metrics, secrets: secrets,
            logger: options.logger)
    }

    /// Resolves, signature-checks and opens one instance's library.
    static func openLibrary(
        _ instance: PluginInstanceConfig, resolver: PluginPathResolver, mode: LaForgeConfig.Mode,
        trustedKeys: [Ed25519VerifierKey], logger: Logger
    ) throws(RuntimeStartError) -> PluginLibrary {
        do throws(PluginLoadError) {
            let path = try resolver.resolve(instance.library)
            // One open: the signature is checked on this descriptor's bytes and this descriptor
            // is what gets loaded.
            let file = try PluginFile(path: path)
            if mode == .production { try file.checkOnlyTheOwnerCanChangeIt() }
            // Hashing a library costs more than loading it: only a signed one is hashed (an
            // unsigned one is refused in production and allowed in development either way).
            let signed = FileManager.default.fileExists(atPath: PluginSignature.signaturePath(forLibrary: path))
            let verdict: PluginSignature.Verdict =
                signed ? PluginSignature.verify(libraryDigest: try file.sha256(), libraryPath: path, trustedKeys: trustedKeys) : .unsigned
            switch (mode, verdict) {
            case (_, .valid):
                break
            case (.production, _):
                throw PluginLoadError(
                    .signature, library: path, instance: instance.name,
                    "mode is production and the plugin is \(verdict) (sign it with `laforge plugins sign \(path) --key KEY` "
                        + "using a key listed in trusted_keys)")
            case (.development, .unsigned):
                logger.info("plugin \(instance.name): \(path) is unsigned (allowed in development mode)")
            case (.development, .invalid):
                logger.warning("plugin \(instance.name): \(path) has an \(verdict) (allowed in development mode only)")
            }
            return try PluginLibrary.open(file: file)
        } catch {
            var located = error
            located.instance = instance.name
            throw .plugin(located)
        }
    }

    /// Destroys every instance, sinks first, after their calls in flight return.
    public func close() {
        for sink in unstartedSinks.reversed() { sink.close() }
        for sink in sinks.reversed() { sink.close() }
        for connector in idpConnectors.reversed() { connector.close() }
        for backend in secretBackends.reversed() { backend.close() }
    }
}
