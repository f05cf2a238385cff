import PluginABI

/// The ABI status codes as the `Int32` every vtable function returns.
enum Status {
    static let ok = Int32(LAFORGE_OK.rawValue)
    static let retry = Int32(LAFORGE_RETRY.rawValue)
    static let invalidArgument = Int32(LAFORGE_INVALID_ARGUMENT.rawValue)
    static let accessDenied = Int32(LAFORGE_ACCESS_DENIED.rawValue)
    static let unsupported = Int32(LAFORGE_UNSUPPORTED.rawValue)
    static let internalError = Int32(LAFORGE_INTERNAL_ERROR.rawValue)
}

/// A failure inside the connector, carried to the ABI edge as a status code and the text that
/// last_error returns. Messages name claims, URLs (without query) and reasons, never a token.
struct ConnectorError: Error {
    var status: Int32
    var message: String

    init(_ status: Int32, _ message: String) {
        self.status = status
        self.message = message
    }

    static func denied(_ message: String) -> ConnectorError { ConnectorError(Status.accessDenied, message) }
    static func invalidConfig(_ message: String) -> ConnectorError {
        ConnectorError(Status.invalidArgument, "invalid OIDC connector configuration: \(message)")
    }
}
