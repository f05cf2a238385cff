import Foundation
#if canImport(Glibc)
    import Glibc
#endif

/// The few system calls the journal and the other durable record files make, each retried on
/// EINTR and looped over short transfers, each returning the errno of a failure instead of
/// throwing (the callers add the file name and decide what a failure means).
package enum FileIO {
    /// An errno as a `Result` failure.
    package struct Failure: Error {
        package var code: Int32
    }

    package static func open(_ path: String, _ flags: Int32, mode: mode_t = 0o600) -> Result<Int32, Failure> {
        while true {
            let fd = Glibc.open(path, flags | O_CLOEXEC, mode)
            if fd >= 0 { return .success(fd) }
            if errno != EINTR { return .failure(Failure(code: errno)) }
        }
    }

    /// Writes all of `bytes` at `offset`. Returns 0 or the errno of the failure; a failure may
    /// leave a prefix written, which the caller truncates away.
    package static func pwriteAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, at offset: UInt64) -> Int32 {
        var done = 0
        while done < bytes.count {
            let n = pwrite(fd, bytes.baseAddress! + done, bytes.count - done, off_t(offset) + off_t(done))
            if n > 0 {
                done += n
            } else if n < 0 && errno == EINTR {
                continue
            } else {
                // pwrite returning 0 for a non-empty regular-file write means no progress is
                // possible; report it as an I/O error rather than spin.
                return n == 0 ? EIO : errno
            }
        }
        return 0
    }

    /// Reads up to `buffer.count` bytes at `offset`; fewer only at end of file. Returns the count
    /// or the errno.
    package static func pread(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) -> Result<
        Int, Failure
    > {
        var done = 0
        while done < buffer.count {
            let n = Glibc.pread(fd, buffer.baseAddress! + done, buffer.count - done, off_t(offset) + off_t(done))
            if n > 0 {
                done += n
            } else if n == 0 {
                break
            } else if errno != EINTR {
                return .failure(Failure(code: errno))
            }
        }
        return .success(done)
    }

    package static func datasync(_ fd: Int32) -> Int32 {
        while fdatasync(fd) != 0 {
            if errno != EINTR { return errno }
        }
        return 0
    }

    package static func truncate(_ fd: Int32, to length: UInt64) -> Int32 {
        while ftruncate(fd, off_t(length)) != 0 {
            if errno != EINTR { return errno }
        }
        return 0
    }

    package static func size(_ fd: Int32) -> Result<UInt64, Failure> {
        var status = stat()
        guard fstat(fd, &status) == 0 else { return .failure(Failure(code: errno)) }
        return .success(UInt64(status.st_size))
    }

    package static func lock(_ fd: Int32) -> Int32 {
        while flock(fd, LOCK_EX) != 0 {
            if errno != EINTR { return errno }
        }
        return 0
    }

    package static func unlock(_ fd: Int32) {
        _ = flock(fd, LOCK_UN)
    }

    /// `mkdir -p`, syncing the parent of every directory it creates so the new directories
    /// survive a crash along with the files later made durable inside them.
    package static func createDirectories(_ path: String) -> (error: Int32, path: String)? {
        var missing: [String] = []
        var current = path
        while !current.isEmpty, current != "/", access(current, F_OK) != 0 {
            missing.append(current)
            current = parent(of: current)
        }
        for directory in missing.reversed() {
            if mkdir(directory, 0o700) != 0, errno != EEXIST { return (errno, directory) }
            let error = syncDirectory(parent(of: directory))
            if error != 0 { return (error, parent(of: directory)) }
        }
        return nil
    }

    private static func parent(of path: String) -> String {
        var trimmed = Substring(path)
        while trimmed.count > 1, trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        guard let slash = trimmed.lastIndex(of: "/") else { return "." }
        return slash == trimmed.startIndex ? "/" : String(trimmed[..<slash])
    }

    /// Makes a file creation, rename or removal in `directory` durable (a new file's data is
    /// not reachable after a crash until its directory entry is synced too).
    package static func syncDirectory(_ directory: String) -> Int32 {
        switch open(directory, O_RDONLY | O_DIRECTORY) {
        case .failure(let error):
            return error.code
        case .success(let fd):
            defer { _ = close(fd) }
            while fsync(fd) != 0 {
                if errno != EINTR { return errno }
            }
            return 0
        }
    }
}

extension FileIO {
    /// Copies bytes `from..<to` of `handle` to `<directory>/recovered/<file name>.<from>` and
    /// syncs it, before a recovery truncates them: the writer may cut a torn tail, never lose
    /// what it cut. Returns the copy's path, or the errno.
    package static func keepAside(_ handle: JournalFileHandle, from: UInt64, to: UInt64, directory: String) -> Result<String, Failure> {
        let folder = directory + "/recovered"
        if let (error, _) = createDirectories(folder) { return .failure(Failure(code: error)) }
        let path = folder + "/" + (handle.path as NSString).lastPathComponent + ".\(from)"
        let count = Int(to - from)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(count, 1), alignment: 16)
        defer { buffer.deallocate() }
        switch pread(handle.fd, into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<count]), at: from) {
        case .failure(let error): return .failure(error)
        case .success: break
        }
        let fd: Int32
        switch open(path, O_WRONLY | O_CREAT | O_TRUNC) {
        case .failure(let error): return .failure(error)
        case .success(let value): fd = value
        }
        defer { _ = Glibc.close(fd) }
        var error = pwriteAll(fd, UnsafeRawBufferPointer(rebasing: buffer[0..<count]), at: 0)
        if error == 0 { error = datasync(fd) }
        if error == 0 { error = syncDirectory(folder) }
        return error == 0 ? .success(path) : .failure(Failure(code: error))
    }
}

/// An open file descriptor, closed when the last reference goes away. Readers hold a reference
/// for as long as they use the descriptor, so `Journal.close()` can never close a descriptor
/// under a concurrent `pread` (which could then read a reused descriptor number).
package final class JournalFileHandle: Sendable {
    package let fd: Int32
    package let path: String

    package init(fd: Int32, path: String) {
        self.fd = fd
        self.path = path
    }

    deinit { _ = close(fd) }
}
