import Foundation
import LaForgeCore

#if canImport(Glibc)
import Glibc
#endif

/// A plugin library opened once: its signature is checked on the bytes read from this descriptor
/// and the dynamic loader maps this same descriptor (`/proc/self/fd/N`), so a file renamed over the
/// path after the check is never what gets loaded.
///
/// In production the file must also be safe to trust between the check and the load and later:
/// a regular file owned by root or by the user running the host, writable by nobody else, in a
/// directory nobody else can write to (they could replace it otherwise).
public final class PluginFile {
    public let path: String
    let descriptor: Int32
    private let status: stat
    /// Set once the library is loaded from this descriptor: it then stays open for the life of
    /// the process. The dynamic loader knows the library by the name `/proc/self/fd/N` and
    /// returns an already loaded library for a name it has seen, so N must never be reused for
    /// another file (plugins are never unloaded either).
    private var loaded = false

    /// Opens `path` (already resolved by `PluginPathResolver`) for reading.
    public init(path: String) throws(PluginLoadError) {
        self.path = path
        let opened = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard opened >= 0 else {
            throw PluginLoadError(.path, library: path, errno == ENOENT ? "no such file" : "cannot be opened: \(String(cString: strerror(errno)))")
        }
        var status = stat()
        guard fstat(opened, &status) == 0 else {
            let reason = String(cString: strerror(errno))
            Glibc.close(opened)
            throw PluginLoadError(.path, library: path, "cannot be examined: \(reason)")
        }
        guard status.st_mode & S_IFMT == S_IFREG else {
            Glibc.close(opened)
            throw PluginLoadError(
                .path, library: path, status.st_mode & S_IFMT == S_IFDIR ? "is a directory, not a shared library" : "is not a regular file")
        }
        descriptor = opened
        self.status = status
    }

    deinit { if !loaded { Glibc.close(descriptor) } }

    func keepOpenForTheLoadedLibrary() { loaded = true }

    /// The path the dynamic loader opens: this descriptor, not the name.
    var loaderPath: String { "/proc/self/fd/\(descriptor)" }

    /// SHA-256 of the bytes behind the descriptor (read from offset 0, whatever the path names now).
    public func sha256() throws(PluginLoadError) -> [UInt8] {
        do {
            return try SHA256.hash(descriptor: descriptor)
        } catch {
            throw PluginLoadError(.notLoadable, library: path, "cannot be read: \(error)")
        }
    }

    /// The first bytes are ELF's magic number.
    func isELF() -> Bool {
        var magic = [UInt8](repeating: 0, count: 4)
        return pread(descriptor, &magic, 4, 0) == 4 && magic == [0x7F, 0x45, 0x4C, 0x46]
    }

    /// Production's rule for the file and the directory that holds it (see the type's comment).
    public func checkOnlyTheOwnerCanChangeIt() throws(PluginLoadError) {
        let trustedOwners: Set<uid_t> = [0, geteuid()]
        if let problem = Self.problem(status, what: "the library", trustedOwners: trustedOwners) {
            throw PluginLoadError(.unsafeFile, library: path, "\(problem); production mode loads only libraries nobody else can change")
        }
        // The directory the name really lives in (after symbolic links).
        let real = URL(fileURLWithPath: realpath(path, nil).map { pointer in
            defer { free(pointer) }
            return String(cString: pointer)
        } ?? path)
        let directory = real.deletingLastPathComponent().path
        var directoryStatus = stat()
        guard stat(directory, &directoryStatus) == 0 else {
            throw PluginLoadError(.unsafeFile, library: path, "its directory \(directory) cannot be examined: \(String(cString: strerror(errno)))")
        }
        if let problem = Self.problem(directoryStatus, what: "its directory \(directory)", trustedOwners: trustedOwners) {
            throw PluginLoadError(
                .unsafeFile, library: path, "\(problem): others could replace the library; production mode loads only from directories nobody else can write to")
        }
    }

    private static func problem(_ status: stat, what: String, trustedOwners: Set<uid_t>) -> String? {
        let permissions = status.st_mode & 0o7777
        let octal = String(permissions, radix: 8)
        if permissions & S_IWOTH != 0 { return "\(what) is writable by every user (mode \(octal))" }
        if permissions & S_IWGRP != 0 { return "\(what) is writable by its group (mode \(octal))" }
        if !trustedOwners.contains(status.st_uid) {
            return "\(what) is owned by uid \(status.st_uid), neither root nor the user running laforge (uid \(geteuid()))"
        }
        return nil
    }
}
