import Foundation

public enum LogLevel: Int, Sendable, Comparable, CustomStringConvertible {
    case debug = 0, info, warning, error

    public static func < (lhs: LogLevel, rhs: LogLevel) -> Bool { lhs.rawValue < rhs.rawValue }

    public var description: String {
        switch self {
        case .debug: return "debug"
        case .info: return "info"
        case .warning: return "warning"
        case .error: return "error"
        }
    }
}

/// Where the host and its plugins write log lines. The default writes to standard error at
/// `warning` and above; embedders pass their own handler (e.g. to forward to swift-log).
public struct HostLogger: Sendable {
    public var minimumLevel: LogLevel
    private let handler: @Sendable (LogLevel, String) -> Void

    public init(minimumLevel: LogLevel = .warning, handler: @escaping @Sendable (LogLevel, String) -> Void) {
        self.minimumLevel = minimumLevel
        self.handler = handler
    }

    public static func standardError(minimumLevel: LogLevel = .warning) -> HostLogger {
        HostLogger(minimumLevel: minimumLevel) { level, message in
            FileHandle.standardError.write(Data("laforge: [\(level)] \(message)\n".utf8))
        }
    }

    public func log(_ level: LogLevel, _ message: @autoclosure () -> String) {
        guard level >= minimumLevel else { return }
        handler(level, message())
    }
}
