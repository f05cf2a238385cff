import PluginABI

/// The ABI status codes as the `Int32` every vtable function returns. Inlinable constants, so a
/// status crossing the boundary costs nothing beyond the integer.
public enum Status {
    @inlinable public static var ok: Int32 { Int32(LAFORGE_OK.rawValue) }
    @inlinable public static var retry: Int32 { Int32(LAFORGE_RETRY.rawValue) }
    @inlinable public static var permanentError: Int32 { Int32(LAFORGE_PERMANENT_ERROR.rawValue) }
    @inlinable public static var invalidArgument: Int32 { Int32(LAFORGE_INVALID_ARGUMENT.rawValue) }
    @inlinable public static var notFound: Int32 { Int32(LAFORGE_NOT_FOUND.rawValue) }
    @inlinable public static var accessDenied: Int32 { Int32(LAFORGE_ACCESS_DENIED.rawValue) }
    @inlinable public static var unsupported: Int32 { Int32(LAFORGE_UNSUPPORTED.rawValue) }
    @inlinable public static var internalError: Int32 { Int32(LAFORGE_INTERNAL_ERROR.rawValue) }
}
