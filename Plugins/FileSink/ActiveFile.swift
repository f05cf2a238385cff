#if canImport(Glibc)
    import Glibc
#endif

/// The open file the sink appends to, with the size it had after the last complete write so a
/// failed write can be cut back to it.
final class ActiveFile {
    let path: String
    private(set) var fd: Int32
    /// Bytes in the file, all of them complete lines.
    private(set) var size: UInt64
    /// Whether `open` created the file (the directory entry is new).
    let created: Bool
    /// Bytes of a torn last line that `open` removed (0 when the file ended cleanly).
    private(set) var truncatedTornBytes: UInt64 = 0
    private let device: UInt64
    private let inode: UInt64

    /// Opens `path` for appending, creating it with exactly `mode` (not reduced by the umask)
    /// when it does not exist, and cuts off a torn last line left by a crash mid-write.
    init(path: String, mode: mode_t, sync: Bool) throws(FileSinkError) {
        self.path = path
        var created = true
        var fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        if fd < 0 && errno == EEXIST {
            created = false
            fd = open(path, O_RDWR | O_APPEND | O_CLOEXEC)
        }
        guard fd >= 0 else { throw SystemCall.failure("open", path, errno: errno) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let code = errno
            close(fd)
            throw SystemCall.failure("fstat", path, errno: code, status: Status.retry)
        }
        guard info.st_mode & S_IFMT == S_IFREG else {
            close(fd)
            throw FileSinkError(Status.invalidArgument, "open \(path): not a regular file")
        }
        if created && fchmod(fd, mode) != 0 {
            let code = errno
            close(fd)
            throw SystemCall.failure("chmod", path, errno: code)
        }
        self.fd = fd
        self.created = created
        self.device = UInt64(info.st_dev)
        self.inode = UInt64(info.st_ino)
        self.size = UInt64(info.st_size)

        do {
            let cleanEnd = try TailReader(fd: fd, path: path, size: size).endOfLastCompleteLine()
            if cleanEnd < size {
                truncatedTornBytes = size - cleanEnd
                try truncate(to: cleanEnd)
                if sync { try self.sync() }
            }
        } catch {
            closeFile()
            throw error
        }
    }

    deinit { closeFile() }

    func closeFile() {
        if fd >= 0 { close(fd) }
        fd = -1
    }

    /// Appends `bytes` with one write loop. On failure nothing of them stays in the file.
    func append(_ bytes: [UInt8]) throws(FileSinkError) {
        let before = size
        let code = bytes.withUnsafeBytes { SystemCall.writeAll(fd, $0) }
        guard code == 0 else {
            let failure = SystemCall.failure("write", path, errno: code, status: Status.retry)
            try? truncate(to: before)
            throw failure
        }
        size = before + UInt64(bytes.count)
    }

    /// fdatasync; on failure the bytes since `keep` are cut off (their durability is unknown,
    /// and the host re-sends them).
    func sync(discardingAfter keep: UInt64? = nil) throws(FileSinkError) {
        let code = SystemCall.dataSync(fd)
        guard code == 0 else {
            if let keep { try? truncate(to: keep) }
            throw SystemCall.failure("fdatasync", path, errno: code, status: Status.retry)
        }
    }

    func truncate(to length: UInt64) throws(FileSinkError) {
        while ftruncate(fd, off_t(length)) != 0 {
            if errno == EINTR { continue }
            throw SystemCall.failure("ftruncate", path, errno: errno, status: Status.retry)
        }
        size = length
    }

    /// Re-reads the size: an operator may have truncated the file (logrotate copytruncate), and
    /// a failed write must be cut back to the real size, never extended with zeros.
    func refreshSize() throws(FileSinkError) {
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw SystemCall.failure("fstat", path, errno: errno, status: Status.retry) }
        size = UInt64(info.st_size)
    }

    /// Whether `path` still names the file this object has open (false after a rename or
    /// delete by logrotate or an operator).
    func pathStillRefersToFile() throws(FileSinkError) -> Bool {
        var open = stat()
        guard fstat(fd, &open) == 0 else { throw SystemCall.failure("fstat", path, errno: errno, status: Status.retry) }
        var named = stat()
        guard stat(path, &named) == 0 else {
            if errno == ENOENT { return false }
            throw SystemCall.failure("stat", path, errno: errno, status: Status.retry)
        }
        return UInt64(named.st_dev) == device && UInt64(named.st_ino) == inode
    }
}
