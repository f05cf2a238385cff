/// A failure inside the sink, carried to the ABI edge as a status code and the text that
/// `last_error` returns. Every message passes through `SecretScrubber` before it is stored, and
/// names tables, seqs and server messages, never record contents or credentials.
typealias PostgresAuditError = PluginError

extension PostgresAuditError {
    static func invalidConfig(_ message: String) -> PostgresAuditError {
        PostgresAuditError(Status.invalidArgument, "invalid configuration: \(message)")
    }
}
