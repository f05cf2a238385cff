import PluginABI

/// The ABI status codes as the `Int32` every vtable function returns.
enum Status {
    static let ok = Int32(LAFORGE_OK.rawValue)
    static let retry = Int32(LAFORGE_RETRY.rawValue)
    static let permanentError = Int32(LAFORGE_PERMANENT_ERROR.rawValue)
    static let invalidArgument = Int32(LAFORGE_INVALID_ARGUMENT.rawValue)
    static let accessDenied = Int32(LAFORGE_ACCESS_DENIED.rawValue)
    static let internalError = Int32(LAFORGE_INTERNAL_ERROR.rawValue)
}

/// A failure inside the sink, carried to the ABI edge as a status code and the text that
/// `last_error` returns. Every message passes through `SecretScrubber` before it is stored, and
/// names tables, seqs and server messages, never record contents or credentials.
struct PostgresAuditError: Error {
    var status: Int32
    var message: String

    init(_ status: Int32, _ message: String) {
        self.status = status
        self.message = message
    }

    static func invalidConfig(_ message: String) -> PostgresAuditError {
        PostgresAuditError(Status.invalidArgument, "invalid configuration: \(message)")
    }
}
