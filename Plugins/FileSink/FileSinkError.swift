/// A failure inside the sink, carried to the ABI edge as a status code and the text that
/// `last_error` returns. Messages name paths and errno descriptions, never record contents.
typealias FileSinkError = PluginError

extension FileSinkError {
    static func invalidConfig(_ message: String) -> FileSinkError {
        FileSinkError(Status.invalidArgument, "invalid FileSink configuration: \(message)")
    }
}
