import NIOCore

#if canImport(Glibc)
    import Glibc
#endif

/// Who is on the other end of a Unix socket connection, as the kernel recorded it when the peer
/// connected (`SO_PEERCRED`): nothing the caller sends can change it.
public struct PeerCredentials: Sendable, Equatable, CustomStringConvertible {
    public var pid: Int32
    public var uid: UInt32
    public var gid: UInt32

    public var description: String { "uid \(uid) gid \(gid) pid \(pid)" }

    struct Unavailable: Error, CustomStringConvertible {
        var description: String
    }

    /// Reads the credentials of `channel`'s peer (on the channel's event loop).
    static func of(_ channel: any Channel) async throws -> PeerCredentials {
        guard let provider = channel as? any SocketOptionProvider else {
            throw Unavailable(description: "the connection is not a socket")
        }
        let future: EventLoopFuture<KernelCredentials> = provider.unsafeGetSocketOption(
            level: .socket, name: NIOBSDSocket.Option(rawValue: SO_PEERCRED))
        return try await future.map { PeerCredentials(pid: $0.pid, uid: $0.uid, gid: $0.gid) }.get()
    }
}

/// `struct ucred` of <sys/socket.h> (Glibc exports it only under _GNU_SOURCE): pid_t, uid_t, gid_t.
struct KernelCredentials {
    var pid: Int32 = 0
    var uid: UInt32 = 0
    var gid: UInt32 = 0
}
