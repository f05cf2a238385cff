import Logging

extension Logger {
    /// The logger host code uses when its caller passes none: label `laforge`, through whatever
    /// backend the process bootstrapped with `LoggingSystem` (the CLI installs its own; an
    /// embedding service installs its own; unbootstrapped, swift-log writes to standard error).
    public static var host: Logger { Logger(label: "laforge") }

    /// A logger that hands every message at `minimumLevel` or above to `handler`: for tests,
    /// benchmarks and embedders that want the lines without a logging backend.
    public init(
        label: String = "laforge", minimumLevel: Logger.Level,
        handler: @escaping @Sendable (Logger.Level, String) -> Void
    ) {
        self.init(label: label) { _ in ClosureLogHandler(logLevel: minimumLevel, handler: handler) }
    }
}

/// The swift-log handler behind `Logger(minimumLevel:handler:)`.
public struct ClosureLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let handler: @Sendable (Logger.Level, String) -> Void

    public init(logLevel: Logger.Level, handler: @escaping @Sendable (Logger.Level, String) -> Void) {
        self.logLevel = logLevel
        self.handler = handler
    }

    public func log(event: LogEvent) { handler(event.level, event.message.description) }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }
}
