import Foundation
import LaForgeCore

/// One deliverer per sink across processes (`<state_dir>/cursors/<sink>.lock`, flock): two
/// `laforge audit emit` processes finishing at once must not both advance one cursor. The
/// lock is released when the holder exits, however it exits.
final class DeliveryLock: @unchecked Sendable {
    private let fd: Int32

    private init(fd: Int32) { self.fd = fd }

    /// Takes the lock, polling until `deadline` (nil: no limit) or until `stop` is set, since
    /// another process (a running `audit deliver --follow`) may hold it for hours and the caller
    /// has its own deadline to keep. Nil when not acquired.
    static func acquire(stateDirectory: String, sink: String, deadline: UInt64?, stop: StopSignal? = nil) throws -> DeliveryLock? {
        let directory = (stateDirectory as NSString).appendingPathComponent("cursors")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let fd = open(directory + "/\(sink).lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        while true {
            if flock(fd, LOCK_EX | LOCK_NB) == 0 { return DeliveryLock(fd: fd) }
            guard errno == EWOULDBLOCK || errno == EINTR else {
                close(fd)
                throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
            }
            if let deadline, monotonicNanoseconds() >= deadline {
                close(fd)
                return nil
            }
            if stop?.isStopped == true {
                close(fd)
                return nil
            }
            usleep(20_000)
        }
    }

    deinit {
        flock(fd, LOCK_UN)
        close(fd)
    }
}
