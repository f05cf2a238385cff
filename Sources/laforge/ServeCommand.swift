import ArgumentParser
import Dispatch
import LaForgeHost
import LaForgeServer
import Logging

struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the host as a service: the local HTTP API on a Unix socket (docs/API.md).",
        discussion: """
            Starts every plugin, delivers to the sinks and signs checkpoints continuously, and \
            answers on serve.socket (default <state_dir>/laforge.sock, mode 0660) for the callers \
            listed in serve.clients. SIGTERM drains and exits 0; SIGHUP reloads serve.clients and \
            the limits. With NOTIFY_SOCKET set it reports READY=1, STOPPING=1 and the watchdog.
            """)

    @OptionGroup var global: GlobalOptions

    func run() throws {
        let config = try global.loadConfig()
        let logger = Logger.standardError(minimumLevel: global.verbose ? .debug : .notice)
        let outcome = LockedResult()
        let done = DispatchSemaphore(value: 0)
        let configLocation = global.configLocation
        let pluginDirectory = global.pluginDir
        Task {
            do throws(LaForgeServe.Failure) {
                try await LaForgeServe.run(config: config, configLocation: configLocation, pluginDirectory: pluginDirectory, logger: logger)
            } catch {
                outcome.set(error)
            }
            done.signal()
        }
        done.wait()
        if let failure = outcome.get() {
            throw fail(failure.description, failure.runtimeError?.exitCode ?? ExitCode(failure.exitCode))
        }
    }
}

/// The serve task's failure, handed to the waiting main thread.
private final class LockedResult: @unchecked Sendable {
    // @unchecked: written once by the task before it signals, read after the wait.
    private var failure: LaForgeServe.Failure?
    func set(_ value: LaForgeServe.Failure) { failure = value }
    func get() -> LaForgeServe.Failure? { failure }
}
