import LaForgeCore

/// An audit sink whose `create` failed when the host started: a database down or its password
/// wrong, a SIEM unreachable. Its configuration was valid (loading, signature and schema all
/// passed), so only the plugin's own start is repeated, by the sink's delivery worker with its
/// backoff, while the other sinks deliver and events are recorded in the journal meanwhile.
public final class UnstartedAuditSink: @unchecked Sendable {
    // @unchecked: the mutable state is behind `state`'s lock.
    public let name: String
    public let library: PluginLibrary
    private let configJSON: PluginConfigJSON
    private let context: PluginHostContext
    private struct State {
        var instance: AuditSinkInstance?
        var lastError: PluginLoadError
        var closed = false
    }
    private let state: LockedValue<State>

    init(name: String, library: PluginLibrary, configJSON: PluginConfigJSON, context: PluginHostContext, startError: PluginLoadError) {
        self.name = name
        self.library = library
        self.configJSON = configJSON
        self.context = context
        self.state = LockedValue(State(instance: nil, lastError: startError))
    }

    /// Why the latest create failed (the plugin's last_error; the host hands plugins their
    /// resolved configuration and plugins do not echo secrets in it).
    public var lastError: PluginLoadError { state.withLock { $0.lastError } }

    /// The instance once a create succeeded.
    public var instance: AuditSinkInstance? { state.withLock { $0.instance } }

    /// Calls the plugin's create again with the same normalized configuration; once it
    /// succeeds, returns that instance on every later call. Never creates after `close`.
    public func start() throws(PluginLoadError) -> AuditSinkInstance {
        let result = state.withLock { state -> Result<AuditSinkInstance, PluginLoadError> in
            if let instance = state.instance { return .success(instance) }
            guard !state.closed else {
                return .failure(PluginLoadError(.createFailed, library: library.path, instance: name, "the host is shutting down"))
            }
            do throws(PluginLoadError) {
                let instance = try AuditSinkInstance(name: name, library: library, configJSON: configJSON, context: context)
                state.instance = instance
                return .success(instance)
            } catch {
                state.lastError = error
                return .failure(error)
            }
        }
        return try result.get()
    }

    /// Destroys the instance if one was created; no create follows.
    func close() {
        let instance = state.withLock { state -> AuditSinkInstance? in
            state.closed = true
            return state.instance
        }
        instance?.close()
    }
}
