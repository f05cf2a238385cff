import ArgumentParser
import LaForgeHost

extension LaForgeRuntimeError {
    /// The exit code of the layer that failed (docs/CLI.md "Exit codes").
    var exitCode: ExitCode {
        switch self {
        case .configuration: return LaForgeExit.configError
        case .plugins(let error): return error.exitCode
        case .audit(let error): return error.exitCode
        case .identity(let error): return error.exitCode
        case .snapshot(let error): return error.exitCode
        case .secret, .envelope, .shutDown: return LaForgeExit.runtimeError
        }
    }
}

extension GlobalOptions {
    /// Opens the embedders' facade on the configuration (with --state-dir, --plugin-dir and the
    /// CLI's logger), printing its notices; errors are printed with their exit code.
    func openRuntime(shutdownTimeoutMilliseconds: Int? = nil) throws(ExitCode) -> LaForgeRuntime {
        let config = try loadConfig()
        do {
            let runtime = try LaForgeRuntime.open(
                config: config,
                options: .init(pluginDirectory: pluginDir, logger: logger, shutdownTimeoutMilliseconds: shutdownTimeoutMilliseconds))
            for notice in runtime.notices { printError("laforge: \(notice)") }
            return runtime
        } catch {
            throw fail(error.description, error.exitCode)
        }
    }
}
