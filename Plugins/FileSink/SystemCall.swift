#if canImport(Glibc)
    import Glibc
#endif

/// Thin wrappers over the system calls the sink uses, each turning a failure into a
/// `FileSinkError` whose message reads like the shell's: "write /var/log/a.ndjson: No space left
/// on device".
enum SystemCall {
    static func describe(_ code: Int32) -> String {
        guard let text = strerror(code) else { return "errno \(code)" }
        return String(cString: text)
    }

    static func failure(_ operation: String, _ path: String, errno code: Int32, status: Int32? = nil) -> FileSinkError {
        FileSinkError(status ?? statusForOpen(code), "\(operation) \(path): \(describe(code))")
    }

    /// Opening or creating the file: permissions are an access problem, a missing or wrong kind
    /// of parent is a configuration problem, everything else (EIO, ENOSPC, EMFILE) may pass.
    static func statusForOpen(_ code: Int32) -> Int32 {
        switch code {
        case EACCES, EPERM, EROFS: return Status.accessDenied
        case ENOENT, ENOTDIR, EISDIR, ENAMETOOLONG, ELOOP: return Status.invalidArgument
        default: return Status.retry
        }
    }

    /// Writes all of `bytes` at the end of `fd` (opened O_APPEND), resuming after partial writes
    /// and EINTR. Returns 0 or the errno of the failing write.
    static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Int32 {
        guard var next = bytes.baseAddress else { return 0 }
        var remaining = bytes.count
        while remaining > 0 {
            let written = write(fd, next, remaining)
            if written < 0 {
                if errno == EINTR { continue }
                return errno
            }
            // POSIX allows 0 only for a zero-length request; treat it as an I/O error rather
            // than spin.
            if written == 0 { return EIO }
            next += written
            remaining -= written
        }
        return 0
    }

    static func dataSync(_ fd: Int32) -> Int32 {
        while fdatasync(fd) != 0 {
            if errno == EINTR { continue }
            return errno
        }
        return 0
    }

    /// Makes a rename or a newly created name in `directory` durable (a file's fsync does not
    /// cover its directory entry).
    static func syncDirectory(_ directory: String) throws(FileSinkError) {
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw failure("open directory", directory, errno: errno, status: Status.retry) }
        defer { close(fd) }
        let code = dataSync(fd)
        // Some file systems refuse fsync on directories (EINVAL); the rename is as durable as
        // they can make it.
        if code != 0 && code != EINVAL {
            throw failure("fsync directory", directory, errno: code, status: Status.retry)
        }
    }

    /// `mkdir -p` with `mode` for the directories it creates.
    static func makeDirectories(_ directory: String, mode: mode_t) throws(FileSinkError) {
        var info = stat()
        if stat(directory, &info) == 0 {
            guard info.st_mode & S_IFMT == S_IFDIR else {
                throw FileSinkError(Status.invalidArgument, "mkdir \(directory): exists and is not a directory")
            }
            return
        }
        let parent = PathName.directory(of: directory)
        if parent != directory { try makeDirectories(parent, mode: mode) }
        if mkdir(directory, mode) != 0 && errno != EEXIST {
            throw failure("mkdir", directory, errno: errno)
        }
    }

    /// Renames without ever replacing an existing `destination` (renameat2 RENAME_NOREPLACE,
    /// looked up at run time because Swift's Glibc module does not export it). Returns 0 or errno.
    static func renameNoReplace(_ source: String, _ destination: String) -> Int32 {
        if let renameat2 = renameat2Function {
            let renameNoReplaceFlag: UInt32 = 1  // RENAME_NOREPLACE in <linux/fs.h>
            if renameat2(AT_FDCWD, source, AT_FDCWD, destination, renameNoReplaceFlag) == 0 { return 0 }
            let code = errno
            // EINVAL: the file system does not support the flag; fall back below.
            if code != EINVAL && code != ENOSYS { return code }
        }
        if access(destination, F_OK) == 0 { return EEXIST }
        return rename(source, destination) == 0 ? 0 : errno
    }

    private typealias RenameAt2 =
        @convention(c) (
            Int32, UnsafePointer<CChar>, Int32, UnsafePointer<CChar>, UInt32
        ) -> Int32

    /// Resolved once per process; immutable afterwards.
    /// RTLD_DEFAULT is a null handle in glibc.
    private static var rtldDefault: UnsafeMutableRawPointer? { UnsafeMutableRawPointer(bitPattern: 0) }

    private static let renameat2Function: RenameAt2? = {
        guard let symbol = dlsym(rtldDefault, "renameat2") else {
            return nil
        }
        return unsafeBitCast(symbol, to: RenameAt2.self)
    }()

    /// Monotonic seconds, for the age of the active file.
    static func monotonicSeconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Int64(now.tv_sec)
    }
}

/// Path arithmetic without Foundation.
enum PathName {
    static func directory(of path: String) -> String {
        let bytes = Array(path.utf8)
        var end = bytes.count
        while end > 1 && bytes[end - 1] == UInt8(ascii: "/") { end -= 1 }
        guard let slash = bytes[..<end].lastIndex(of: UInt8(ascii: "/")) else { return "." }
        var cut = slash
        while cut > 0 && bytes[cut - 1] == UInt8(ascii: "/") { cut -= 1 }
        return cut == 0 ? "/" : String(decoding: bytes[..<cut], as: UTF8.self)
    }

    static func baseName(of path: String) -> String {
        let bytes = Array(path.utf8)
        guard let slash = bytes.lastIndex(of: UInt8(ascii: "/")) else { return path }
        return String(decoding: bytes[(slash + 1)...], as: UTF8.self)
    }

    static func absolute(_ path: String) -> String {
        if path.hasPrefix("/") { return path }
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        guard getcwd(&buffer, buffer.count) != nil else { return path }
        let cwd = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return cwd == "/" ? "/\(path)" : "\(cwd)/\(path)"
    }
}
