import ArgumentParser
import LaForgeHost

extension SinkReadBack.OpenError {
    var exitCode: ExitCode {
        switch self {
        case .noSuchSink: return LaForgeExit.configError
        case .cannotReadBack: return LaForgeExit.runtimeError
        case .start(let error): return error.exitCode
        }
    }
}

/// Starts the sink `name` alone to read it back; errors are printed with their exit code.
func openSinkReadBack(_ global: GlobalOptions, sink name: String) throws(ExitCode) -> SinkReadBack {
    let config = try global.loadConfig()
    do { return try SinkReadBack.open(config: config, sink: name, options: global.runtimeOptions()) } catch {
        throw fail(error.description, error.exitCode)
    }
}

/// A read_back that failed: the storage unreachable or refusing (exit 2).
func failReadBack(_ error: PluginCallError) -> ExitCode {
    fail("cannot read back: \(error)", LaForgeExit.runtimeError)
}
