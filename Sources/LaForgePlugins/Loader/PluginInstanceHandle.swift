import LaForgeCore
import PluginABI

typealias CreateFunction = @convention(c) (
    UnsafePointer<CChar>?, Int, UnsafePointer<laforge_host_api>?, UnsafeMutablePointer<OpaquePointer?>?
) -> Int32
typealias LastErrorFunction = @convention(c) (OpaquePointer?) -> UnsafePointer<CChar>?
typealias DestroyFunction = @convention(c) (OpaquePointer?) -> Void

/// The part every capability's instance shares: the plugin's handle, the host context it was
/// given, the call gate, and the lifecycle rules (destroy exactly once, also after a failed
/// create; never anything after destroy).
final class PluginInstanceHandle: @unchecked Sendable {
    // @unchecked: `handle` is only used through `gate`, which serializes per the threading flag.
    let name: String
    let library: PluginLibrary
    let context: PluginHostContext
    let gate: PluginCallGate
    let handle: OpaquePointer
    private let lastErrorFunction: LastErrorFunction
    private let destroyFunction: DestroyFunction

    /// What a failed create() left behind, for callers that judge the plugin rather than the
    /// configuration (the conformance kit checks that a half-made instance explains itself).
    struct FailedCreate {
        var status: PluginStatus
        var handedOutInstance: Bool
        var lastError: String
    }

    /// Calls the plugin's create with the normalized config; on failure reads last_error from
    /// the half-made instance (if the plugin handed one out), destroys it, reports it to
    /// `onFailure` and throws.
    init(
        name: String, library: PluginLibrary, configJSON: PluginConfigJSON, concurrent: Bool,
        context: PluginHostContext,
        create: CreateFunction, lastError: LastErrorFunction, destroy: DestroyFunction,
        onFailure: (FailedCreate) -> Void = { _ in }
    ) throws(PluginLoadError) {
        var out: OpaquePointer? = nil
        let code = configJSON.withCString { pointer, length in
            create(pointer, length, UnsafePointer(context.table), &out)
        }
        let status = PluginStatus(code: code)
        if status != .ok || out == nil {
            var message = ""
            if let out {
                message = lastError(out).map { String(cString: $0) } ?? ""
                destroy(out)
            }
            onFailure(FailedCreate(status: status, handedOutInstance: out != nil, lastError: message))
            let detail: String
            switch status {
            case .ok: detail = "create returned OK but no instance"
            case .unknown(let value): detail = "create returned unknown status \(value)"
            default: detail = "create failed (\(status))"
            }
            throw PluginLoadError(
                .createFailed, library: library.path, instance: name,
                message.isEmpty ? detail : "\(detail): \(message)")
        }
        self.name = name
        self.library = library
        self.context = context
        self.gate = PluginCallGate(concurrent: concurrent)
        self.handle = out!
        self.lastErrorFunction = lastError
        self.destroyFunction = destroy
    }

    /// The plugin's last_error, read inside the same gated call as the failure it explains.
    func lastError() -> String {
        lastErrorFunction(handle).map { String(cString: $0) } ?? ""
    }

    /// Runs one gated call; throws `.closed` after destroy.
    func call<R>(_ function: String, _ body: () throws(PluginCallError) -> R) throws(PluginCallError) -> R {
        let result: Result<R, PluginCallError>? = gate.call {
            do throws(PluginCallError) { return .success(try body()) } catch { return .failure(error) }
        }
        guard let result else { throw PluginCallError(.closed, instance: name, function: function, "") }
        return try result.get()
    }

    /// Maps a status from a function whose only success is OK.
    func check(_ code: Int32, _ function: String) throws(PluginCallError) {
        let status = PluginStatus(code: code)
        switch status {
        case .ok: return
        case .unknown(let value):
            throw PluginCallError(.protocolViolation, instance: name, function: function, "returned unknown status \(value)")
        default:
            throw PluginCallError(.failed(status), instance: name, function: function, lastError())
        }
    }

    func close() {
        gate.close { destroyFunction(handle) }
    }

    deinit { close() }
}
