#if canImport(Glibc)
    import Glibc
#endif

/// The highest records already stored: what makes a re-sent batch a no-op. The host re-sends
/// after RETRY or a crash, always in seq order, so anything at or below these marks is stored.
struct StoredMarks: Equatable {
    /// Highest entry seq stored.
    var lastEntrySeq: UInt64?
    /// Largest checkpoint tree size stored.
    var lastCheckpointSize: UInt64?

    var isComplete: Bool { lastEntrySeq != nil && lastCheckpointSize != nil }

    func isStored(entry seq: UInt64) -> Bool { lastEntrySeq.map { seq <= $0 } ?? false }
    func isStored(checkpoint size: UInt64) -> Bool { lastCheckpointSize.map { size <= $0 } ?? false }

    mutating func merge(_ other: StoredMarks) {
        lastEntrySeq = Self.maximum(lastEntrySeq, other.lastEntrySeq)
        lastCheckpointSize = Self.maximum(lastCheckpointSize, other.lastCheckpointSize)
    }

    private static func maximum(_ a: UInt64?, _ b: UInt64?) -> UInt64? {
        switch (a, b) {
        case (let a?, let b?): return max(a, b)
        case (let a?, nil): return a
        default: return b
        }
    }

    /// Reads the marks from the newest lines of a file, stopping as soon as both are known.
    /// Unreadable lines (hand-edited, foreign) are reported through `warn` and skipped.
    static func read(
        fd: Int32, path: String, size: UInt64, warn: (String) -> Void
    ) throws(FileSinkError) -> StoredMarks {
        var marks = StoredMarks()
        var warned = false
        try TailReader(fd: fd, path: path, size: size).forEachLineBackward { line in
            // Once the last entry is known only checkpoints matter, and every checkpoint line
            // starts with the same bytes: skip the rest without parsing them.
            if marks.lastEntrySeq != nil && !RecordLine.startsAsCheckpoint(line) { return true }
            switch RecordLine.classify(line) {
            case .entry(let seq):
                if marks.lastEntrySeq == nil { marks.lastEntrySeq = seq }
            case .checkpoint(let size):
                if marks.lastCheckpointSize == nil { marks.lastCheckpointSize = size }
            case .unreadable(let reason):
                if !warned {
                    warn("\(path): skipped a line the sink cannot read (\(reason)) while looking for the last stored seq")
                    warned = true
                }
            }
            return !marks.isComplete
        }
        return marks
    }

    /// `read` on a file opened only for this.
    static func read(path: String, warn: (String) -> Void) throws(FileSinkError) -> StoredMarks {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SystemCall.failure("open", path, errno: errno, status: Status.retry) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw SystemCall.failure("fstat", path, errno: errno, status: Status.retry) }
        return try read(fd: fd, path: path, size: UInt64(info.st_size), warn: warn)
    }
}
