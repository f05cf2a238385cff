import PluginABI

/// A failure inside the sink, carried to the ABI edge as a status code and the text that
/// `last_error` returns. Messages name paths and errno descriptions, never record contents.
struct FileSinkError: Error {
    var status: Int32
    var message: String

    init(_ status: Int32, _ message: String) {
        self.status = status
        self.message = message
    }

    static func invalidConfig(_ message: String) -> FileSinkError {
        FileSinkError(Status.invalidArgument, "invalid FileSink configuration: \(message)")
    }
}
