#if canImport(Glibc)
    import Glibc
#endif

/// A C string for a descriptor, a vtable or a host-info field: allocated once per process and
/// never freed (the host never unloads a plugin, so the pointer stays valid for as long as anyone
/// can hold it).
public func staticCString(_ text: String) -> UnsafePointer<CChar> {
    UnsafePointer(strdup(text)!)
}
