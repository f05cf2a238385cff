import Foundation
import LaForgeHost
import Logging

/// What `laforge serve` runs behind its routes: the audit log, every plugin, the delivery
/// workers following the journal, the periodic checkpointer and the identity service, opened in
/// that order and closed in the reverse one.
///
/// Kept in one place so the routes never open anything themselves; when the runtime facade
/// (`LaForgeRuntime`) lands this type becomes a thin adapter over it.
public final class ServedHost: @unchecked Sendable {
    // @unchecked: every field is immutable after `open`; the objects it holds are thread-safe.
    public let config: LaForgeConfig
    public let log: AuditLog
    public let plugins: PluginRuntime
    public let identity: IdentityService
    public let metrics: MetricsRegistry
    public let reader: AuditReader
    private let delivery: DeliveryEngine
    private let checkpoints: PeriodicCheckpoints

    public struct OpenError: Error, CustomStringConvertible {
        public var description: String
        /// `LaForgeExit`'s code for the failure (configuration, plugin, storage).
        public var exitCode: Int32
    }

    public static func open(config: LaForgeConfig, pluginDirectory: String?, logger: Logger) throws(OpenError) -> ServedHost {
        let metrics = MetricsRegistry(logger: logger)
        let log: AuditLog
        do { log = try AuditLog.open(config: config, logger: logger, metrics: metrics) } catch {
            throw OpenError(description: error.description, exitCode: error.kind == .configuration ? 3 : 2)
        }
        for notice in log.notices { logger.notice("\(notice)") }
        let plugins: PluginRuntime
        do {
            plugins = try PluginRuntime.start(
                config: config, options: PluginRuntime.Options(pluginDirectory: pluginDirectory, logger: logger, metrics: metrics))
        } catch {
            log.journal.close()
            throw OpenError(description: error.description, exitCode: 4)
        }
        return ServedHost(config: config, log: log, plugins: plugins, metrics: metrics)
    }

    private init(config: LaForgeConfig, log: AuditLog, plugins: PluginRuntime, metrics: MetricsRegistry) {
        self.config = config
        self.log = log
        self.plugins = plugins
        self.metrics = metrics
        self.identity = IdentityService(runtime: plugins, auditLog: log)
        self.reader = AuditReader(journal: log.journal, verifierKeys: log.verifierKeys, origin: log.origin)
        self.delivery = DeliveryEngine(log: log, runtime: plugins)
        self.checkpoints = PeriodicCheckpoints(log: log)
        delivery.start(follow: true)
    }

    /// Stops recording's helpers in order: the checkpointer, then the sinks get what the
    /// journal holds (within `deadlineMilliseconds`), then a final checkpoint and the journal
    /// closes, then the plugins. Returns the sinks that had not caught up.
    public func shutdown(deadlineMilliseconds: Int) -> [String] {
        checkpoints.stop()
        do { try log.signCheckpoint() } catch { log.logger.error("final checkpoint: \(error)") }
        delivery.drain()
        // Following workers never return on their own: wait until every sink holds everything
        // (entries and the final checkpoint) or the deadline passes, then stop them.
        let deadline = ClockArithmetic.deadline(afterMilliseconds: deadlineMilliseconds, now: monotonicNanoseconds())
        while monotonicNanoseconds() < deadline, !sinkStatuses().allSatisfy(\.isCaughtUp) {
            usleep(10_000)
        }
        delivery.stop()
        delivery.wait()
        let behind = sinkStatuses().filter { !$0.isCaughtUp }.map(\.name)
        do { try log.close() } catch { log.logger.error("closing the audit log: \(error)") }
        plugins.close()
        return behind
    }
}
