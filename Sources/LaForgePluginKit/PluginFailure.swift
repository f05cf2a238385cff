/// A failure inside a plugin, carried to the ABI edge as a status code and the text that
/// `last_error` returns. Messages name what failed (paths, URLs, fields, server answers), never
/// a secret value, a token or record contents.
public protocol PluginFailure: Error {
    /// The ABI status (`Status.retry`, `Status.invalidArgument`, …) the failing call returns.
    var status: Int32 { get }
    var message: String { get }

    /// A caller error (`Status.invalidArgument`): the kit reports a NULL `config_json` or a
    /// `request_json` that is not JSON with it.
    static func invalidArgument(_ message: String) -> Self
}
