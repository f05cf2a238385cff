import Foundation
import LaForgeHost
import Logging

/// What `laforge serve` runs behind its routes: the runtime facade (`LaForgeRuntime`: audit log,
/// plugins, delivery workers, periodic checkpoints, identity, secrets, shutdown in order) plus the
/// journal reader the read routes use. The routes never open anything themselves.
public final class ServedHost: Sendable {
    public let runtime: LaForgeRuntime
    public let reader: AuditReader

    public var config: LaForgeConfig { runtime.config }
    public var log: AuditLog { runtime.auditLog }
    public var metrics: MetricsRegistry { runtime.auditLog.metrics }

    /// Opens and starts the runtime (delivery and periodic checkpoints run from here on).
    public static func open(config: LaForgeConfig, pluginDirectory: String?, logger: Logger) throws(LaForgeRuntimeError) -> ServedHost {
        let runtime = try LaForgeRuntime.open(
            config: config,
            options: .init(
                pluginDirectory: pluginDirectory, logger: logger,
                shutdownTimeoutMilliseconds: config.serve.shutdownTimeoutMilliseconds))
        try runtime.start()
        return ServedHost(runtime: runtime)
    }

    private init(runtime: LaForgeRuntime) {
        self.runtime = runtime
        let log = runtime.auditLog
        // Reads go through the read-only reader (as the CLI's), never the writer's handle.
        reader = AuditReader(directory: log.journal.options.directory, verifierKeys: log.verifierKeys, origin: log.origin)
    }
}
