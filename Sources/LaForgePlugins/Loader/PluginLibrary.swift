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
        let library = try load(path: path)
        return cache.withLock { cache in
            if let existing = cache[canonical] { return existing }
            cache[canonical] = library
            return library
        }
    }

    private static func load(path: String) throws(PluginLoadError) -> PluginLibrary {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw PluginLoadError(.path, library: path, "no such file")
        }
        guard !isDirectory.boolValue else {
            throw PluginLoadError(.path, library: path, "is a directory, not a shared library")
        }
        guard isELF(path) else {
            throw PluginLoadError(
                .notLoadable, library: path,
                "not an ELF shared object (a plugin is a .so built with -shared -fPIC)")
        }
        guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE) else {
            let reason = dlerror().map { String(cString: $0) } ?? "unknown dlopen error"
            throw PluginLoadError(.notLoadable, library: path, "cannot be loaded: \(reason)")
        }
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

    private static func isELF(_ path: String) -> Bool {
        guard let file = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? file.close() }
        let magic = (try? file.read(upToCount: 4)) ?? nil
        return magic == Data([0x7F, 0x45, 0x4C, 0x46])
    }

    private static func callEntry(
        _ entry: laforge_plugin_entry_fn, library: String
    ) throws(PluginLoadError) -> PluginDescriptor {
        let hostVersion = strdup(ABIVersion.hostVersion)!
        defer { free(hostVersion) }
        var hostInfo = laforge_host_info(
            struct_size: UInt32(MemoryLayout<laforge_host_info>.size),
            abi_major: UInt16(ABIVersion.host.major),
            abi_minor: UInt16(ABIVersion.host.minor),
            host_version: UnsafePointer(hostVersion))
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
