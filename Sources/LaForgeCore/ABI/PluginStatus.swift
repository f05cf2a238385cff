import PluginABI

/// A status code returned through the C ABI. The set is closed: any other value is reported as
/// `unknown` and treated as an error by every caller (the header pins the numbers).
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
        case Int32(LAFORGE_OK.rawValue): self = .ok
        case Int32(LAFORGE_RETRY.rawValue): self = .retry
        case Int32(LAFORGE_PERMANENT_ERROR.rawValue): self = .permanentError
        case Int32(LAFORGE_INVALID_ARGUMENT.rawValue): self = .invalidArgument
        case Int32(LAFORGE_NOT_FOUND.rawValue): self = .notFound
        case Int32(LAFORGE_ACCESS_DENIED.rawValue): self = .accessDenied
        case Int32(LAFORGE_UNSUPPORTED.rawValue): self = .unsupported
        case Int32(LAFORGE_INTERNAL_ERROR.rawValue): self = .internalError
        default: self = .unknown(code)
        }
    }

    public var code: Int32 {
        switch self {
        case .ok: return Int32(LAFORGE_OK.rawValue)
        case .retry: return Int32(LAFORGE_RETRY.rawValue)
        case .permanentError: return Int32(LAFORGE_PERMANENT_ERROR.rawValue)
        case .invalidArgument: return Int32(LAFORGE_INVALID_ARGUMENT.rawValue)
        case .notFound: return Int32(LAFORGE_NOT_FOUND.rawValue)
        case .accessDenied: return Int32(LAFORGE_ACCESS_DENIED.rawValue)
        case .unsupported: return Int32(LAFORGE_UNSUPPORTED.rawValue)
        case .internalError: return Int32(LAFORGE_INTERNAL_ERROR.rawValue)
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
