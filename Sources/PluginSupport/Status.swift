import PluginABI

/// The ABI status codes as the `Int32` every vtable function returns.
public enum Status {
    public static let ok = Int32(LAFORGE_OK.rawValue)
    public static let retry = Int32(LAFORGE_RETRY.rawValue)
    public static let permanentError = Int32(LAFORGE_PERMANENT_ERROR.rawValue)
    public static let invalidArgument = Int32(LAFORGE_INVALID_ARGUMENT.rawValue)
    public static let notFound = Int32(LAFORGE_NOT_FOUND.rawValue)
    public static let accessDenied = Int32(LAFORGE_ACCESS_DENIED.rawValue)
    public static let unsupported = Int32(LAFORGE_UNSUPPORTED.rawValue)
    public static let internalError = Int32(LAFORGE_INTERNAL_ERROR.rawValue)
}
