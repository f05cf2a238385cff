import Foundation
import Logging

/// The CLI's log backend: one line per message on standard error, `laforge: [warning] message`.
/// Metadata (the `plugin` of a plugin's line …) is for structured backends; the message already
/// names its component.
struct StandardErrorLogHandler: LogHandler {
    var logLevel: Logger.Level = .warning
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?

    func log(event: LogEvent) {
        FileHandle.standardError.write(Data("laforge: [\(event.level)] \(event.message)\n".utf8))
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }
}

extension Logger {
    /// The process's logging goes to `StandardErrorLogHandler`; bootstrapped once, on first use,
    /// so host code that logs through `Logger.host` prints the same lines.
    private static let bootstrapped: Void = LoggingSystem.bootstrap { _ in StandardErrorLogHandler() }

    /// The CLI's logger at `minimumLevel` (`--verbose` lowers it to debug).
    static func standardError(minimumLevel: Logger.Level) -> Logger {
        _ = bootstrapped
        var logger = Logger.host
        logger.logLevel = minimumLevel
        return logger
    }
}
