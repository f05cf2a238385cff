import Foundation
import Logging

/// The LaForge host as one object, for embedders (the compiler, a generated Swift service, a
/// server such as `laforge serve`): the audit log, the plugins, delivery to the sinks, periodic
/// checkpoints, identity and secrets, opened together from one configuration and stopped
/// together in the one order that loses nothing (docs/EMBEDDING.md).
///
/// ```swift
/// let runtime = try LaForgeRuntime.open(configPath: "config/laforge.yaml")
/// try runtime.start()
/// let receipt = try runtime.emit(event)          // durable when it returns
/// let check = try runtime.authorize(token: bearer, action: "audit.read", resource: "tenant/acme/audit")
/// runtime.shutdown()
/// ```
///
/// Every method may be called from any thread. After `shutdown()` begins, calls that record or
/// use plugins throw `LaForgeRuntimeError.shutDown`; the ones in flight finish first.
/// In a Swift server, run it in a `ServiceGroup` instead of calling `start`/`shutdown` (it is a
/// swift-service-lifecycle `Service`, see `LaForgeRuntime+Service.swift`).
public final class LaForgeRuntime: @unchecked Sendable {
    // @unchecked: the layers are thread-safe; the phase, the calls in flight and the workers
    // are behind `state`'s lock.
    // The layers below are public for what the facade does not offer (e.g. `AuditReader`
    // queries on `config`); calls made on them directly are not waited for by `shutdown()`.
    public let config: LaForgeConfig
    /// The audit trail (journal, checkpoints); `emit` goes through it.
    public let auditLog: AuditLog
    /// The started plugin instances (secret backends, IdP connectors, sinks).
    public let plugins: PluginRuntime
    /// Tokens, principals and authorization decisions; denials are recorded in `auditLog`.
    public let identity: IdentityService
    public let logger: Logger
    /// What the operator should know about opening (a key generated, a torn journal tail cut).
    public let notices: [String]
    private let shutdownTimeoutMilliseconds: Int

    private enum Phase { case opened, running, stopping, stopped }
    private struct State {
        var phase = Phase.opened
        var inFlight = 0
        var delivery: DeliveryEngine?
        var checkpoints: PeriodicCheckpoints?
        var report: ShutdownReport?
    }
    private let state = LockedValue(State())

    private init(config: LaForgeConfig, auditLog: AuditLog, plugins: PluginRuntime, options: Options) {
        self.config = config
        self.auditLog = auditLog
        self.plugins = plugins
        self.identity = IdentityService(runtime: plugins, auditLog: auditLog)
        self.logger = options.logger
        self.notices = auditLog.notices
        self.shutdownTimeoutMilliseconds = options.shutdownTimeoutMilliseconds ?? config.audit.delivery.flushTimeoutMilliseconds
    }

    // MARK: - Opening

    /// Reads the configuration file at `configPath` and opens the runtime from it.
    public static func open(configPath: String, options: Options = Options()) throws(LaForgeRuntimeError) -> LaForgeRuntime {
        let config: LaForgeConfig
        do { config = try LaForgeConfig.load(path: configPath, environment: options.environment) } catch {
            throw .configuration(error)
        }
        return try open(config: config, options: options)
    }

    /// Opens the audit log (generating keys on first use in development) and starts every
    /// configured plugin, secret backends first. Nothing is delivered until `start()`.
    public static func open(config: LaForgeConfig, options: Options = Options()) throws(LaForgeRuntimeError) -> LaForgeRuntime {
        var config = config
        if let stateDirectory = options.stateDirectory { config.stateDir = stateDirectory }
        // One registry for the log and the plugins, so their metrics are one namespace.
        let metrics = MetricsRegistry(logger: options.logger)
        let log: AuditLog
        do { log = try AuditLog.open(config: config, logger: options.logger, metrics: metrics) } catch {
            throw .audit(error)
        }
        for notice in log.notices { options.logger.notice("\(notice)") }
        let plugins: PluginRuntime
        do {
            plugins = try PluginRuntime.start(
                config: config,
                // A long-running host delivers to the sinks that start; one whose plugin does not
                // is retried by its own delivery worker (docs/AUDIT.md).
                options: .init(
                    pluginDirectory: options.pluginDirectory, environment: options.environment, logger: options.logger,
                    metrics: metrics, sinkCreateFailure: .retryInDelivery))
        } catch {
            log.journal.close()
            throw .plugins(error)
        }
        return LaForgeRuntime(config: config, auditLog: log, plugins: plugins, options: options)
    }

    /// Starts a delivery worker per sink (following the journal) and the periodic checkpoint
    /// signer. Idempotent; throws `.shutDown` once `shutdown()` has begun.
    public func start() throws(LaForgeRuntimeError) {
        let started: Bool = state.withLock { state in
            guard state.phase == .opened || state.phase == .running else { return false }
            if state.phase == .opened {
                state.delivery = startDelivery()
                state.checkpoints = PeriodicCheckpoints(log: auditLog)
                state.phase = .running
            }
            return true
        }
        if !started { throw .shutDown }
    }

    private func startDelivery() -> DeliveryEngine? {
        guard !plugins.sinks.isEmpty else { return nil }
        let engine = DeliveryEngine(log: auditLog, runtime: plugins)
        engine.start(follow: true)
        return engine
    }

    // MARK: - Recording

    /// Records one event; returns its receipt (seq and chain hash) once it is durable in the
    /// journal. Nil only with `fail_closed: false` when the journal could not persist it.
    @discardableResult
    public func emit(_ event: AuditEvent) throws(LaForgeRuntimeError) -> JournalEntryReceipt? {
        try emit([event]).first
    }

    /// Records events in order as one group (one disk sync for all); one receipt per event.
    @discardableResult
    public func emit(_ events: [AuditEvent]) throws(LaForgeRuntimeError) -> [JournalEntryReceipt] {
        try admit()
        defer { release() }
        do { return try auditLog.emit(events) } catch { throw .audit(error) }
    }

    // MARK: - Identity

    /// Validates a bearer token through the IdP connector (the only one configured, or
    /// `connector`) and decides whether its principal may perform `action` on `resource`. A
    /// refused token is a denial too; every denial is recorded as an `auth.deny` audit event.
    public func authorize(
        token: String, action: String, resource: String, connector: String? = nil
    ) throws(LaForgeRuntimeError) -> IdentityService.TokenCheck {
        try admit()
        defer { release() }
        do { return try identity.check(token: token, action: action, resource: resource, connector: connector) } catch {
            throw .identity(error)
        }
    }

    /// The decision for a principal the embedder already holds (from `principal(token:)` or its
    /// own session); a denial is recorded as an `auth.deny` audit event.
    public func authorize(_ principal: Principal, action: String, resource: String) throws(LaForgeRuntimeError) -> AuthorizationDecision {
        try admit()
        defer { release() }
        do { return try identity.authorize(principal, action: action, resource: resource) } catch { throw .identity(error) }
    }

    /// Validates a bearer token and maps its claims to a principal (roles from `claims_to_roles`).
    public func principal(token: String, connector: String? = nil) throws(LaForgeRuntimeError) -> Principal {
        try admit()
        defer { release() }
        do { return try identity.principal(token: token, connector: connector) } catch { throw .identity(error) }
    }

    // MARK: - Secrets

    /// Reads a secret through the secret backends: `BACKEND/NAME`, or `NAME` with one backend.
    /// The value is never logged; release it as soon as it is used.
    public func secret(_ reference: String) throws(LaForgeRuntimeError) -> SecretValue {
        try admit()
        defer { release() }
        do { return try plugins.secrets.resolveSecret(reference) } catch { throw .secret(error) }
    }

    /// Envelope encryption of fields through a secret backend (the only one, or `backend`),
    /// wrapping data keys with `keyID` (default: the backend's `key_id`).
    public func envelopeCipher(backend: String? = nil, keyID: String? = nil) throws(LaForgeRuntimeError) -> EnvelopeCipher {
        try admit()
        defer { release() }
        do { return try EnvelopeCipher(backend: plugins.secretBackend(named: backend), keyID: keyID) } catch {
            throw .envelope(error)
        }
    }

    // MARK: - Delivery

    /// Where delivery to each configured sink stands (lag, failures, dead letters), in
    /// configuration order: what a readiness probe reports. Cheap enough to poll.
    public func deliveryStatus() -> [SinkDeliveryStatus] {
        if let delivery = state.withLock({ $0.delivery }) { return delivery.status() }
        let unstarted = Dictionary(uniqueKeysWithValues: plugins.unstartedSinks.map { ($0.name, $0) })
        return config.sinks.map { sink in
            let pending = unstarted[sink.name].flatMap { $0.instance == nil ? $0 : nil }
            return SinkDeliveryStatus(
                sink: sink.name, lagEntries: DeliveryEngine.lagEntries(log: auditLog, sink: sink.name),
                lastError: pending.map { "not started: \($0.lastError.message)" }, failing: pending != nil, started: pending == nil)
        }
    }

    /// The journal's size, the entries no checkpoint covers yet (they grow while the checkpoint
    /// key is unavailable) and each sink's cursor, from the files: `laforge audit status`.
    public func auditStatus() throws(LaForgeRuntimeError) -> AuditStatus {
        do { return try AuditStatus.read(config: config) } catch { throw .audit(error) }
    }

    // MARK: - Calls in flight

    /// Counts a call in, unless shutdown has begun.
    func admit() throws(LaForgeRuntimeError) {
        let admitted: Bool = state.withLock { state in
            guard state.phase == .opened || state.phase == .running else { return false }
            state.inFlight += 1
            return true
        }
        if !admitted { throw .shutDown }
    }

    func release() { state.withLock { $0.inFlight -= 1 } }

    // MARK: - Shutdown

    /// What `shutdown()` did.
    public struct ShutdownReport: Sendable, Equatable {
        /// Whether each sink received everything recorded (entries and the final checkpoint)
        /// before the deadline, by sink name. What a sink did not get stays in the journal.
        public var caughtUp: [String: Bool]
        /// The size of the newest signed checkpoint: the final one covers every recorded entry.
        public var checkpointSize: UInt64?
        /// What went wrong (a checkpoint that could not be signed); also logged at error level.
        public var problems: [String]
        /// Nothing went wrong and every sink caught up.
        public var isClean: Bool { problems.isEmpty && caughtUp.values.allSatisfy { $0 } }
    }

    /// Stops in the order that loses nothing: stop accepting calls (those in flight finish;
    /// each emit returned only once committed, so the journal holds everything), stop the
    /// periodic signer, sign the final checkpoint over every entry, let the delivery workers
    /// send it all until each sink caught up or the shutdown timeout passed, destroy the plugin
    /// instances, close the journal. Safe to call more than once and from several threads: the
    /// first call does the work, the others wait for it and get the same report.
    @discardableResult
    public func shutdown() -> ShutdownReport {
        let first: Bool = state.withLock { state in
            guard state.phase == .opened || state.phase == .running else { return false }
            state.phase = .stopping
            return true
        }
        guard first else {
            while true {
                if let report = state.withLock({ $0.report }) { return report }
                usleep(1_000)
            }
        }
        while state.withLock({ $0.inFlight }) > 0 { usleep(200) }
        let (running, checkpoints) = state.withLock { ($0.delivery, $0.checkpoints) }
        checkpoints?.stop()
        var problems: [String] = []
        do { try auditLog.signCheckpoint() } catch { problems.append("cannot sign the final checkpoint: \(error)") }
        // A runtime that was never started still delivers what it recorded, within the timeout.
        var caughtUp: [String: Bool] = [:]
        if let delivery = running ?? startDelivery() {
            state.withLock { $0.delivery = delivery }
            caughtUp = delivery.finish(deadline: ClockArithmetic.deadline(afterMilliseconds: shutdownTimeoutMilliseconds, now: monotonicNanoseconds()))
            for (sink, done) in caughtUp.sorted(by: { $0.key < $1.key }) where !done {
                logger.warning("sink \(sink) has not received everything yet; the rest stays in the journal (run `laforge audit deliver`)")
            }
        }
        plugins.close()
        // Delivery may have recorded entries meanwhile (dead letters): the last checkpoint
        // covers them too, and they go to the sinks at the next start.
        do { try auditLog.signCheckpoint() } catch { problems.append("cannot sign the last checkpoint: \(error)") }
        let checkpointSize = (try? auditLog.journal.checkpoints().last?.size) ?? nil
        do { try auditLog.close() } catch { problems.append("cannot close the audit log: \(error)") }
        for problem in problems { logger.error("shutdown: \(problem)") }
        let report = ShutdownReport(caughtUp: caughtUp, checkpointSize: checkpointSize, problems: problems)
        state.withLock {
            $0.report = report
            $0.phase = .stopped
        }
        return report
    }

    deinit {
        // An embedder that forgot shutdown() still gets a final checkpoint and a closed journal.
        if state.withLock({ $0.phase == .opened || $0.phase == .running }) { shutdown() }
    }
}
