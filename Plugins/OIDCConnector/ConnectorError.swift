/// A failure inside the connector, carried to the ABI edge as a status code and the text that
/// last_error returns. Messages name claims, URLs (without query) and reasons, never a token.
typealias ConnectorError = PluginError

extension ConnectorError {
    static func denied(_ message: String) -> ConnectorError { ConnectorError(Status.accessDenied, message) }
    static func invalidConfig(_ message: String) -> ConnectorError {
        ConnectorError(Status.invalidArgument, "invalid OIDC connector configuration: \(message)")
    }
}
