import PluginABI

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
