/// One instance of a plugin capability, as the kit's vtables drive it: `create` makes it with
/// the host's services and hands it its configuration; every later call reaches it through the
/// capability's protocol (`AuditSinkPlugin`, `SecretBackendPlugin`, `IdPConnectorPlugin`).
///
/// The kit owns the ABI edge: it retains the instance for the host in `create` (also when
/// `configure` fails, so the host can read `last_error`), releases it in `destroy`, and turns a
/// NULL argument into a status. The instance never sees a C function pointer.
public protocol PluginInstance: AnyObject {
    associatedtype Failure: PluginFailure

    /// Called by `create`, before `configure`. `host` stays valid until the instance is destroyed.
    init(host: HostServices)

    /// Reads the configuration `create` was given: the host's validated, normalized RFC 8785
    /// JSON (see `ConfigJSON`). A thrown failure fails `create` with its status and message.
    func configure(_ json: [UInt8]) throws(Failure)

    /// Where this instance's `last_error` messages live.
    var lastError: LastErrorBuffer { get }

    /// Records `error` for `last_error` and returns its status. The default records the message
    /// as is; implement it to add a prefix, scrub known secrets or count failures.
    @discardableResult
    func fail(_ error: Failure) -> Int32
}

extension PluginInstance {
    @discardableResult
    public func fail(_ error: Failure) -> Int32 {
        lastError.record(error.message)
        return error.status
    }
}
