import PluginABI

/// The ABI status codes as the `Int32` every vtable function returns.
enum Status {
    static let ok = Int32(LAFORGE_OK.rawValue)
    static let retry = Int32(LAFORGE_RETRY.rawValue)
    static let permanentError = Int32(LAFORGE_PERMANENT_ERROR.rawValue)
    static let invalidArgument = Int32(LAFORGE_INVALID_ARGUMENT.rawValue)
    static let notFound = Int32(LAFORGE_NOT_FOUND.rawValue)
    static let accessDenied = Int32(LAFORGE_ACCESS_DENIED.rawValue)
    static let unsupported = Int32(LAFORGE_UNSUPPORTED.rawValue)
    static let internalError = Int32(LAFORGE_INTERNAL_ERROR.rawValue)
}
