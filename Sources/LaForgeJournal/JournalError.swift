#if canImport(Glibc)
    import Glibc
#endif

/// Why the journal, the checkpoint log or a cursor file could not be read or written. The message
/// names the file and, for on-disk corruption, the byte offset of the first bad frame.
public struct JournalError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable, Equatable {
        /// A system call failed (ENOSPC, EIO, EFBIG, EACCES ...). Nothing of the failed call is
        /// left on disk.
        case io(errno: Int32)
        /// On-disk data fails validation somewhere other than a torn tail: a changed, missing or
        /// reordered frame, a gap between segments, a garbage cursor file. Never skipped.
        case corrupt
        /// `fdatasync` failed. The state of the page cache is unknown (the "fsyncgate" problem),
        /// so this `Journal` refuses further writes until it is reopened.
        case notDurable
        /// The journal was closed.
        case closed
        /// The caller passed something the journal cannot store (an oversize entry, a checkpoint
        /// beyond the journal or smaller than the last one, an unusable sink name).
        case invalidArgument
    }

    public var kind: Kind
    /// The file (or directory) concerned.
    public var path: String
    /// Byte offset in `path`, when the error is about a specific frame.
    public var offset: UInt64?
    public var message: String

    public init(_ kind: Kind, path: String, offset: UInt64? = nil, _ message: String) {
        self.kind = kind
        self.path = path
        self.offset = offset
        self.message = message
    }

    static func io(_ errno: Int32, path: String, offset: UInt64? = nil, _ action: String) -> JournalError {
        let reason = String(cString: strerror(errno))
        return JournalError(.io(errno: errno), path: path, offset: offset, "\(action): \(reason)")
    }

    public var description: String {
        if let offset {
            return "journal \(path) at byte \(offset): \(message)"
        }
        return "journal \(path): \(message)"
    }
}
