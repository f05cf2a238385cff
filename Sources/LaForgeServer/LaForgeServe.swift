import Foundation
import Hummingbird
import LaForgeHost
import Logging
import ServiceLifecycle

#if canImport(Glibc)
    import Glibc
#endif

/// `laforge serve`: opens the host, listens on the Unix socket and runs until SIGTERM or SIGINT,
/// then drains: stops accepting, finishes the requests in progress, signs a final checkpoint,
/// gives the sinks until `serve.shutdown_timeout_ms` to catch up and exits. SIGHUP reopens the
/// sinks (logrotate) and reloads what can change safely (`serve.clients`, `max_in_flight`, `max_body_bytes`) and logs what needs a
/// restart. Readiness and stopping go to systemd through `NOTIFY_SOCKET` when it is set.
public enum LaForgeServe {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
        public var exitCode: Int32
        /// The runtime's own error when opening it failed (the CLI maps it to its exit code).
        public var runtimeError: LaForgeRuntimeError?

        init(description: String, exitCode: Int32, runtimeError: LaForgeRuntimeError? = nil) {
            self.description = description
            self.exitCode = exitCode
            self.runtimeError = runtimeError
        }
    }

    /// Runs the server; returns when it has shut down cleanly.
    public static func run(config: LaForgeConfig, configLocation: ConfigLocation, pluginDirectory: String?, logger: Logger) async throws(Failure) {
        let socketPath = config.serve.socketPath(stateDirectory: config.stateDir)
        try prepareSocketPath(socketPath)
        let host: ServedHost
        do { host = try ServedHost.open(config: config, pluginDirectory: pluginDirectory, logger: logger) } catch {
            throw Failure(description: error.description, exitCode: 2, runtimeError: error)
        }
        let api = ServeAPI(host: host)
        let router = Router(context: ServeRequestContext.self)
        router.middlewares.add(CallerMiddleware(api: api))
        api.addAuditRoutes(to: router)
        api.addServiceRoutes(to: router)
        api.addSecretRoutes(to: router)
        api.addGuardRoutes(to: router)

        let notifier = SystemdNotifier()
        let app = Application(
            router: router,
            configuration: ApplicationConfiguration(address: .unixDomainSocket(path: socketPath), serverName: "laforge"),
            onServerRunning: { _ in
                // Group members may connect (0660); everyone else is kept out by the file mode,
                // and callers who connect are still matched against serve.clients.
                chmod(socketPath, 0o660)
                logger.notice("laforge serve: listening on \(socketPath)")
                notifier.notify("READY=1\nSTATUS=listening on \(socketPath)")
            },
            logger: logger)
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(services: [app], logger: logger))

        let signals = SignalHandlers(logger: logger) {
            notifier.notify("STOPPING=1")
            logger.notice("laforge serve: stopping (finishing requests in progress)")
            Task { await group.triggerGracefulShutdown() }
        } reload: {
            // SIGHUP is logrotate's signal too: sinks reopen their files (ABI 1.2 reopen), as
            // `audit deliver --follow` does, then the settings that may change are reloaded.
            host.runtime.plugins.reopenSinks()
            reloadSettings(api: api, configLocation: configLocation, running: config, logger: logger)
        }
        let watchdog = notifier.watchdogInterval.map { interval in
            Task {
                while !Task.isCancelled {
                    notifier.notify("WATCHDOG=1")
                    try? await Task.sleep(nanoseconds: interval * 1000)
                }
            }
        }
        var failure: (any Error)?
        do { try await group.run() } catch { failure = error }
        watchdog?.cancel()
        withExtendedLifetime(signals) {}
        await api.work.shutdown()
        // The runtime's shutdown order: calls in flight finish, final checkpoint, sinks get
        // what the journal holds within serve.shutdown_timeout_ms, plugins close, journal closes.
        let report = host.runtime.shutdown()
        if let size = report.checkpointSize { logger.notice("laforge serve: final checkpoint covers \(size) entries") }
        unlink(socketPath)
        if let failure { throw Failure(description: "the server stopped: \(failure)", exitCode: 2) }
        logger.notice("laforge serve: stopped")
    }

    /// Makes sure the socket's folder exists and no live server owns the path; a stale socket
    /// file from a killed server is removed.
    static func prepareSocketPath(_ path: String) throws(Failure) {
        let folder = (path as NSString).deletingLastPathComponent
        if !folder.isEmpty { try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
        guard path.utf8.count < 108 else {
            throw Failure(description: "serve.socket: \(path) is longer than a Unix socket path may be (107 bytes)", exitCode: 3)
        }
        var status = stat()
        guard lstat(path, &status) == 0 else { return }
        guard (status.st_mode & S_IFMT) == S_IFSOCK else {
            throw Failure(description: "serve.socket: \(path) exists and is not a socket", exitCode: 3)
        }
        if UnixSocketProbe.accepts(path) {
            throw Failure(description: "another laforge serve is listening on \(path)", exitCode: 2)
        }
        unlink(path)
    }

    /// SIGHUP: takes the new `serve.clients` and limits; anything else that changed is named
    /// as needing a restart. A file that no longer loads keeps the running settings.
    static func reloadSettings(api: ServeAPI, configLocation: ConfigLocation, running: LaForgeConfig, logger: Logger) {
        let fresh: LaForgeConfig
        do { fresh = try configLocation.load() } catch {
            logger.error("laforge serve: reload refused, keeping the running configuration: \(error)")
            return
        }
        api.settings.withLock { settings in
            settings.clients = fresh.serve.clients
            settings.maxInFlight = fresh.serve.maxInFlight
            settings.maxBodyBytes = fresh.serve.maxBodyBytes
            settings.shutdownTimeoutMilliseconds = fresh.serve.shutdownTimeoutMilliseconds
        }
        api.work.setLimit(fresh.serve.maxInFlight)
        var needRestart: [String] = []
        for key in LaForgeConfig.rootKeyNames where key != "serve" {
            let before = running.document.node(at: [.key(key)])?.toJSON()
            let after = fresh.document.node(at: [.key(key)])?.toJSON()
            if before != after { needRestart.append(key) }
        }
        if fresh.serve.socket != running.serve.socket { needRestart.append("serve.socket") }
        if fresh.serve.emitThreads != running.serve.emitThreads { needRestart.append("serve.emit_threads") }
        let restart = needRestart.isEmpty ? "" : "; changes to \(needRestart.joined(separator: ", ")) take effect after a restart"
        logger.notice(
            "laforge serve: reloaded serve.clients (\(fresh.serve.clients.count)), max_in_flight, max_body_bytes, shutdown_timeout_ms\(restart)")
    }
}

/// Whether something accepts connections on a Unix socket path.
enum UnixSocketProbe {
    static func accepts(_ path: String) -> Bool {
        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        return result == 0
    }
}

/// SIGTERM and SIGINT stop the server, SIGHUP reloads; handled on a dispatch queue (the default
/// actions are turned off while these handlers live).
final class SignalHandlers: @unchecked Sendable {
    // @unchecked: the sources are only touched in init and deinit.
    private var sources: [any DispatchSourceSignal] = []

    init(logger: Logger, stop: @escaping @Sendable () -> Void, reload: @escaping @Sendable () -> Void) {
        let queue = DispatchQueue(label: "laforge-serve-signals")
        for (number, action) in [(SIGTERM, stop), (SIGINT, stop), (SIGHUP, reload)] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler(handler: action)
            source.resume()
            sources.append(source)
        }
    }

    deinit { for source in sources { source.cancel() } }
}
