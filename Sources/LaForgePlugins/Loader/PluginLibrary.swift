import Foundation
import LaForgeCore
import PluginABI

#if canImport(Glibc)
import Glibc
#endif

/// A plugin shared library opened with `RTLD_NOW|RTLD_LOCAL|RTLD_NODELETE` and validated.
///
/// Libraries are never closed: a Swift plugin's runtime metadata cannot be unloaded safely, and
/// an unloaded library would leave dangling function pointers in every vtable copy.
public final class PluginLibrary: @unchecked Sendable {
    // @unchecked: immutable after init.
    public let path: String
    public let descriptor: PluginDescriptor
    private let handle: UnsafeMutableRawPointer

    private init(path: String, handle: UnsafeMutableRawPointer, descriptor: PluginDescriptor) {
        self.path = path
        self.handle = handle
        self.descriptor = descriptor
    }

    private static let cache = LockedValue<[String: PluginLibrary]>([:])

    /// Opens and validates the library at `path` (already resolved by `PluginPathResolver`).
    /// Opening the same file twice returns the same object.
    public static func open(path: String) throws(PluginLoadError) -> PluginLibrary {
        let canonical = realPath(path) ?? path
        if let cached = cache.withLock({ $0[canonical] }) { return cached }
        return try open(file: PluginFile(path: path))
    }

    /// Loads the library behind an open `PluginFile` — the descriptor whose bytes were checked, not
    /// whatever the path names by now. Opening the same path twice returns the same object.
    public static func open(file: PluginFile) throws(PluginLoadError) -> PluginLibrary {
        let canonical = realPath(file.path) ?? file.path
        if let cached = cache.withLock({ $0[canonical] }) { return cached }
        let library = try load(file)
        return cache.withLock { cache in
            if let existing = cache[canonical] { return existing }
            cache[canonical] = library
            return library
        }
    }

    private static func load(_ file: PluginFile) throws(PluginLoadError) -> PluginLibrary {
        let path = file.path
        guard file.isELF() else {
            throw PluginLoadError(
                .notLoadable, library: path,
                "not an ELF shared object (a plugin is a .so built with -shared -fPIC)")
        }
        guard let handle = dlopen(file.loaderPath, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE) else {
            let reason = dlerror().map { String(cString: $0) } ?? "unknown dlopen error"
            throw PluginLoadError(.notLoadable, library: path, "cannot be loaded: \(reason.replacingOccurrences(of: file.loaderPath, with: path))")
        }
        file.keepOpenForTheLoadedLibrary()
        guard let symbol = dlsym(handle, LAFORGE_PLUGIN_ENTRY_SYMBOL) else {
            throw PluginLoadError(
                .noEntrySymbol, library: path,
                "does not export \(LAFORGE_PLUGIN_ENTRY_SYMBOL); is it a LaForge plugin? "
                    + "(C: LAFORGE_EXPORT the entry function; Swift: @_cdecl(\"\(LAFORGE_PLUGIN_ENTRY_SYMBOL)\"))")
        }
        let entry = unsafeBitCast(symbol, to: laforge_plugin_entry_fn.self)
        let descriptor = try callEntry(entry, library: path)
        return PluginLibrary(path: path, handle: handle, descriptor: descriptor)
    }

    /// laforge_host_info.host_version: one C string for every load (a plugin may keep the pointer).
    nonisolated(unsafe) private static let hostVersionCString = staticCString(ABIVersion.hostVersion)

    private static func callEntry(
        _ entry: laforge_plugin_entry_fn, library: String
    ) throws(PluginLoadError) -> PluginDescriptor {
        var hostInfo = laforge_host_info(
            struct_size: UInt32(MemoryLayout<laforge_host_info>.size),
            abi_major: UInt16(ABIVersion.host.major),
            abi_minor: UInt16(ABIVersion.host.minor),
            host_version: hostVersionCString)
        var refusal: UnsafePointer<CChar>? = nil
        guard let raw = entry(&hostInfo, &refusal) else {
            let reason = refusal.map { String(cString: $0) } ?? "no reason given"
            throw PluginLoadError(
                .incompatible, library: library,
                "refused to load into host ABI \(ABIVersion.host) (runtime \(ABIVersion.hostVersion)): \(reason)")
        }
        return try DescriptorValidator(library: library).validate(UnsafeRawPointer(raw))
    }
}
