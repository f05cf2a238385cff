import Foundation
import LaForgeCore

/// An append-only NDJSON file of canonical records (the snapshot chain, the approvals), shared by
/// processes: writers hold `flock` on a lock file beside it, so two `laforge snapshot sign` runs
/// serialize and never fork the chain, and each record is fsynced before it is reported written.
///
/// A last line without its newline is a write a crash interrupted (never reported written);
/// readers skip it and name it, and the next writer cuts it off before appending.
final class RecordFile: @unchecked Sendable {
    let path: String
    private let lockPath: String

    struct Line {
        /// 1-based line number in the file.
        var number: Int
        var bytes: [UInt8]
    }

    init(path: String) {
        self.path = path
        self.lockPath = path + ".lock"
    }

    /// Complete lines in file order, and the byte count of an interrupted last line (0: none).
    func lines() throws(SnapshotError) -> (lines: [Line], tornBytes: Int) {
        guard FileManager.default.fileExists(atPath: path) else { return ([], 0) }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw SnapshotError(.storage, "cannot read \(path): \(String(cString: strerror(errno)))")
        }
        var lines: [Line] = []
        var start = data.startIndex
        var number = 0
        while let newline = data[start...].firstIndex(of: 0x0A) {
            number += 1
            lines.append(Line(number: number, bytes: Array(data[start..<newline])))
            start = newline + 1
        }
        return (lines, data.endIndex - start)
    }

    /// Runs `body` holding the exclusive lock (waiting for other writers).
    func withLock<T>(_ body: () throws(SnapshotError) -> T) throws(SnapshotError) -> T {
        let directory = (path as NSString).deletingLastPathComponent
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw SnapshotError(.storage, "cannot create \(directory): \(error.localizedDescription)")
        }
        let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw SnapshotError(.storage, "cannot open \(lockPath): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        while flock(fd, LOCK_EX) != 0 {
            guard errno == EINTR else { throw SnapshotError(.storage, "cannot lock \(lockPath): \(String(cString: strerror(errno)))") }
        }
        defer { flock(fd, LOCK_UN) }
        return try body()
    }

    /// Appends one line (which ends in a newline) durably; call it holding the lock. Cuts off an
    /// interrupted last line first. The notice says when it did.
    @discardableResult
    func append(_ line: [UInt8]) throws(SnapshotError) -> String? {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw SnapshotError(.storage, "cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var notice: String?
        let (_, torn) = try lines()
        if torn > 0 {
            let size = lseek(fd, 0, SEEK_END)
            guard ftruncate(fd, size - off_t(torn)) == 0 else {
                throw SnapshotError(.storage, "cannot cut the interrupted last line of \(path): \(String(cString: strerror(errno)))")
            }
            notice = "\(path): removed an interrupted last line (\(torn) bytes, never reported written)"
        }
        let end = lseek(fd, 0, SEEK_END)
        let written = line.withUnsafeBytes { FileIO.pwriteAll(fd, $0, at: UInt64(end)) }
        guard written == 0, fsync(fd) == 0 else {
            _ = ftruncate(fd, end)
            throw SnapshotError(.storage, "cannot write \(path): \(String(cString: strerror(errno))); nothing was recorded")
        }
        _ = FileIO.syncDirectory((path as NSString).deletingLastPathComponent)
        return notice
    }
}
