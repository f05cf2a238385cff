import LaForgeABI
import PluginABI

/// An audit sink that holds something open by name, which an operator may move (ABI 1.2
/// `reopen`): the host calls `reopen` when the process receives SIGHUP (logrotate's
/// postrotate), so the sink never installs a signal handler of its own. Called like `write`
/// (same threading, never concurrently with it on a serial instance). A sink that opens nothing
/// by name leaves the slot NULL by not adopting this.
public protocol ReopeningAuditSink: AuditSinkPlugin {
    /// OK when reopened; RETRY, with the reason recorded with `fail`, when it cannot be yet (the
    /// next write tries again).
    func reopen() -> Int32
}
