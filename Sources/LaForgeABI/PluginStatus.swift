/// A status code returned through the C ABI. The set is closed: any other value is reported as
/// `unknown` and treated as an error by every caller (the header pins the numbers). The host's
/// view of a status; a plugin answers the raw codes of `Status`.
public enum PluginStatus: Sendable, Equatable, CustomStringConvertible {
    case ok
    case retry
    case permanentError
    case invalidArgument
    case notFound
    case accessDenied
    case unsupported
    case internalError
    case unknown(Int32)

    public init(code: Int32) {
        switch code {
        case Status.ok: self = .ok
        case Status.retry: self = .retry
        case Status.permanentError: self = .permanentError
        case Status.invalidArgument: self = .invalidArgument
        case Status.notFound: self = .notFound
        case Status.accessDenied: self = .accessDenied
        case Status.unsupported: self = .unsupported
        case Status.internalError: self = .internalError
        default: self = .unknown(code)
        }
    }

    public var code: Int32 {
        switch self {
        case .ok: return Status.ok
        case .retry: return Status.retry
        case .permanentError: return Status.permanentError
        case .invalidArgument: return Status.invalidArgument
        case .notFound: return Status.notFound
        case .accessDenied: return Status.accessDenied
        case .unsupported: return Status.unsupported
        case .internalError: return Status.internalError
        case .unknown(let code): return code
        }
    }

    public var description: String {
        switch self {
        case .ok: return "OK"
        case .retry: return "RETRY"
        case .permanentError: return "PERMANENT_ERROR"
        case .invalidArgument: return "INVALID_ARGUMENT"
        case .notFound: return "NOT_FOUND"
        case .accessDenied: return "ACCESS_DENIED"
        case .unsupported: return "UNSUPPORTED"
        case .internalError: return "INTERNAL_ERROR"
        case .unknown(let code): return "unknown status \(code)"
        }
    }
}
