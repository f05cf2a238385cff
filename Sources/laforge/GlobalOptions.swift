import ArgumentParser
import Foundation
import LaForgeHost
import Logging

/// Options every command that reads the configuration accepts.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "The configuration file (default: $LAFORGE_CONFIG, else /etc/laforge/laforge.yaml, else the built-in default).",
        valueName: "path"))
    var config: String?

    @Option(name: .long, help: ArgumentHelp("Overrides state_dir from the configuration.", valueName: "dir"))
    var stateDir: String?

    @Option(name: .long, help: ArgumentHelp(
        "Where plugin libraries are looked up (overrides $LAFORGE_PLUGIN_DIR and plugin_dir).", valueName: "dir"))
    var pluginDir: String?

    @Flag(name: .long, help: "Log plugin and host messages down to debug level.")
    var verbose = false

    /// Which configuration is in force (the host decides: ConfigLocation).
    var configLocation: ConfigLocation { ConfigLocation.resolve(option: config) }

    var logger: Logger { .standardError(minimumLevel: verbose ? .debug : .warning) }

    /// Loads the configuration, applying --state-dir; errors are printed and mapped to exit 3.
    func loadConfig() throws(ExitCode) -> LaForgeConfig {
        do {
            var config = try configLocation.load()
            if let stateDir { config.stateDir = stateDir }
            return config
        } catch {
            let named = configLocation.origin == .environment ? " (the file $LAFORGE_CONFIG names)" : ""
            throw fail(error.description + named, LaForgeExit.configError)
        }
    }

    /// `.retryInDelivery` for commands that deliver: a sink whose create fails is retried by
    /// its delivery worker while the others deliver.
    func runtimeOptions(sinkCreateFailure: PluginRuntime.SinkCreateFailure = .fail) -> PluginRuntime.Options {
        PluginRuntime.Options(pluginDirectory: pluginDir, logger: logger, sinkCreateFailure: sinkCreateFailure)
    }

    /// Loads the configuration and starts every plugin; errors are printed with their exit code.
    func startRuntime(sinkCreateFailure: PluginRuntime.SinkCreateFailure = .fail) throws(ExitCode) -> PluginRuntime {
        let config = try loadConfig()
        do {
            return try PluginRuntime.start(config: config, options: runtimeOptions(sinkCreateFailure: sinkCreateFailure))
        } catch {
            throw fail(error.description, error.exitCode)
        }
    }
}
