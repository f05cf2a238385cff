import LaForgeCore

/// A call into a plugin instance that did not complete as the ABI promises.
public struct PluginCallError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable, Equatable {
        /// The plugin reported a failure; `status` says which.
        case failed(PluginStatus)
        /// The plugin broke the contract (unknown status code, `*stored` out of range, ...).
        case protocolViolation
        /// The instance was already destroyed.
        case closed
    }

    public var kind: Kind
    public var instance: String
    public var function: String
    public var message: String

    public init(_ kind: Kind, instance: String, function: String, _ message: String) {
        self.kind = kind
        self.instance = instance
        self.function = function
        self.message = message
    }

    public var status: PluginStatus? {
        if case .failed(let status) = kind { return status }
        return nil
    }

    public var description: String {
        switch kind {
        case .failed(let status):
            return "plugin \(instance): \(function) failed (\(status))" + (message.isEmpty ? "" : ": \(message)")
        case .protocolViolation:
            return "plugin \(instance): \(function) broke the plugin ABI contract: \(message)"
        case .closed:
            return "plugin \(instance): \(function) called after the instance was destroyed"
        }
    }
}
