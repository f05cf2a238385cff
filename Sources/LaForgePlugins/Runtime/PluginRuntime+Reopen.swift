import Logging

/// What `PluginRuntime.reopenSinks()` did, sink by sink.
public struct SinkReopenReport: Sendable, Equatable {
    /// Sinks whose reopen returned OK.
    public var reopened: [String] = []
    /// Sinks without reopen (ABI 1.0/1.1 plugins, sinks that open nothing by name): not called.
    public var withoutReopen: [String] = []
    /// Sinks whose reopen failed, with the plugin's message; their next write tries again.
    public var failed: [String: String] = [:]
}

extension PluginRuntime {
    /// Asks every sink that offers reopen (ABI 1.2) to reopen what it holds open by name, one
    /// after another through each sink's call gate: what the host does on SIGHUP, so plugins
    /// never install signal handlers. A failure is logged and does not stop the others.
    @discardableResult
    public func reopenSinks() -> SinkReopenReport {
        var report = SinkReopenReport()
        for sink in sinks {
            do {
                if try sink.reopen() {
                    report.reopened.append(sink.name)
                } else {
                    report.withoutReopen.append(sink.name)
                }
            } catch {
                report.failed[sink.name] = error.description
                logger.warning("sink \(sink.name): reopen failed: \(error.description)")
            }
        }
        return report
    }
}
