import LaForgeABI

/// The plain failure most plugins need: a status and a message. A plugin names it after itself
/// (`typealias FileSinkError = PluginError`) and adds its own constructors in an extension.
public struct PluginError: PluginFailure, Sendable {
    public var status: Int32
    public var message: String

    public init(_ status: Int32, _ message: String) {
        self.status = status
        self.message = message
    }

    public static func invalidArgument(_ message: String) -> PluginError { PluginError(Status.invalidArgument, message) }
}
