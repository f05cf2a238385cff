import Foundation
import LaForgeCore
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The durable, hash-chained, append-only journal: the audit trail's source of truth and the only
/// thing on the commit path (sinks are fed from it afterwards).
///
/// On disk (`options.directory`): segment files `entries-<first seq, 20 digits>.seg` of
/// `EntryFrame`s, `checkpoints.log` of `CheckpointFrame`s, and `lock`, which every writer —
/// in this process or another — holds with `flock(LOCK_EX)` while it appends.
///
/// A `Journal` is safe to use from any number of threads, and any number of processes (each with
/// its own `Journal`) may append to one directory at once: each append continues the chain from
/// the tail as it is on disk when the lock is taken.
///
/// Durability contract: `append` returns only after its entries are written (and, per
/// `JournalOptions.fsync`, synced); when it throws, none of them are left in the files. A failed
/// `fdatasync` poisons the instance (see `JournalError.Kind.notDurable`).
public final class Journal: @unchecked Sendable {
    /// Appends to `output` the canonical entry bytes of a body for its `seq` and `prevHash` (32
    /// bytes). Called in chain order with the journal's lock held: it must be quick and must not
    /// call back into the journal. It writes straight into the group's frame buffer.
    public typealias Linker =
        @Sendable (_ body: [UInt8], _ seq: UInt64, _ prevHash: UnsafeRawBufferPointer, _ output: inout [UInt8]) -> Void

    public let options: JournalOptions
    let linker: Linker
    let lockPath: String

    // Writer state: only touched with `ioLock` held (and the file lock while on disk).
    let ioLock = NSLock()
    var writer: WriterState
    let writerWindow = ReadWindow()

    // Group commit queue (Journal+Append.swift).
    let queue = NSCondition()
    var pending: [AppendRequest] = []
    var leaderActive = false

    // What readers may see: never more than has been committed.
    let published: LockedValue<PublishedState>
    let readHandles = LockedValue<[UInt64: JournalFileHandle]>([:])
    let readHints = LockedValue<[ReadHint]>([])
    let windowPool = LockedValue<[ReadWindow]>([])
    let recoveryLog: LockedValue<[JournalRecovery]>

    /// `fdatasync` calls made by this instance, for tests that check group commit batches.
    let datasyncCalls = Atomic<Int>(0)
    /// Tests set an errno here to make the next `fdatasync` on the commit path fail with it.
    let injectedDatasyncFailure = LockedValue<Int32?>(nil)

    struct ActiveSegment {
        var firstSeq: UInt64
        var handle: JournalFileHandle
    }

    struct WriterState {
        var lockFile: JournalFileHandle?
        /// Where the next frame goes: its seq, the hash it links to, its offset in `active`.
        var tail: ChainPoint
        var active: ActiveSegment?
        var segments: [UInt64]
        var checkpoints: CheckpointLog
        /// Set when an `fdatasync` failed: the message every later write reports.
        var poisoned: String?
        var recentLeaves = RecentLeaves()

        var lastHash: ChainHash { tail.prevHash ?? .zero }
    }

    struct PublishedState {
        var count: UInt64
        var lastHash: ChainHash
        var segments: [UInt64]
        var closed = false
    }

    init(options: JournalOptions, linker: @escaping Linker, writer: WriterState, recoveries: [JournalRecovery]) {
        self.options = options
        self.linker = linker
        self.lockPath = options.directory + "/lock"
        self.writer = writer
        self.published = LockedValue(
            PublishedState(count: writer.tail.nextSeq, lastHash: writer.lastHash, segments: writer.segments))
        self.recoveryLog = LockedValue(recoveries)
    }

    /// Opens (creating if needed) the journal in `options.directory` and recovers it: the last
    /// segment's frames are all re-hashed and relinked, a torn tail is truncated (listed in
    /// `recoveries`), and anything else wrong is thrown as `.corrupt` naming file and offset.
    public static func open(_ options: JournalOptions, linker: @escaping Linker) throws(JournalError) -> Journal {
        guard options.segmentBytes > 0, options.maxGroupEntries > 0, options.maxGroupBytes > 0 else {
            throw JournalError(
                .invalidArgument, path: options.directory,
                "segmentBytes, maxGroupEntries and maxGroupBytes must be positive")
        }
        let directory = options.directory
        if let (error, path) = FileIO.createDirectories(directory) {
            throw JournalError.io(error, path: path, "cannot create the journal directory")
        }
        let lockPath = directory + "/lock"
        let lockFile: JournalFileHandle
        switch FileIO.open(lockPath, O_RDWR | O_CREAT) {
        case .failure(let error): throw JournalError.io(error.code, path: lockPath, "cannot open the lock file")
        case .success(let fd): lockFile = JournalFileHandle(fd: fd, path: lockPath)
        }
        try check(FileIO.syncDirectory(directory), path: directory, "cannot sync the journal directory")
        try check(FileIO.lock(lockFile.fd), path: lockPath, "cannot lock")
        defer { FileIO.unlock(lockFile.fd) }

        var recoveries: [JournalRecovery] = []
        let window = ReadWindow()
        // Checkpoints first: an entry a signed checkpoint covers was on disk whole when it was
        // signed, so a bad frame below that size is tampering, never a torn write to cut off.
        var checkpoints = CheckpointLog(directory: directory)
        try checkpoints.refresh(window: window, recoveries: &recoveries)
        window.reset()
        var writer = try recoverSegments(
            directory: directory, window: window, signedSize: checkpoints.last?.size ?? 0, recoveries: &recoveries)
        writer.lockFile = lockFile
        writer.checkpoints = checkpoints
        if let last = writer.checkpoints.last, last.size > writer.tail.nextSeq {
            throw JournalError(
                .corrupt, path: writer.checkpoints.path,
                "the last checkpoint covers \(last.size) entries but the journal holds \(writer.tail.nextSeq): entries were lost"
            )
        }
        return Journal(options: options, linker: linker, writer: writer, recoveries: recoveries)
    }

    /// Torn tails truncated since open (by `open` or when another process's crashed write was
    /// found while taking the lock).
    public var recoveries: [JournalRecovery] { recoveryLog.withLock { $0 } }

    /// The number of entries in the journal now, including those other processes appended.
    /// Falls back to the last known count if the tail cannot be re-read (the error surfaces on
    /// the next `append` or read).
    public var size: UInt64 {
        (try? currentSize()) ?? published.withLock { $0.count }
    }

    /// The entries this instance knows are committed (its own appends and what it last read of
    /// other processes'), without taking the lock: cheap enough to poll.
    public var knownSize: UInt64 { published.withLock { $0.count } }

    /// As `size`, reporting an error instead of falling back.
    public func currentSize() throws(JournalError) -> UInt64 {
        try withFileLock { () throws(JournalError) in writer.tail.nextSeq }
    }

    /// Releases the files. Pending and later calls fail with `.closed`; a read in progress
    /// finishes on the descriptors it holds.
    public func close() {
        ioLock.lock()
        writer.active = nil
        writer.lockFile = nil
        ioLock.unlock()
        published.withLock { $0.closed = true }
        readHandles.withLock { $0.removeAll() }
    }

    // MARK: - Locking and tail refresh

    /// Runs `body` holding the in-process writer lock and the cross-process file lock, with the
    /// writer state refreshed from disk.
    func withFileLock<R>(_ body: () throws(JournalError) -> R) throws(JournalError) -> R {
        ioLock.lock()
        defer { ioLock.unlock() }
        guard let lockFile = writer.lockFile else {
            throw JournalError(.closed, path: options.directory, "the journal is closed")
        }
        // flock locks belong to the open file description: two threads of this instance would
        // both "hold" it, which is why `ioLock` is taken first.
        try Self.check(FileIO.lock(lockFile.fd), path: lockPath, "cannot lock")
        defer { FileIO.unlock(lockFile.fd) }
        try refreshTail()
        return try body()
    }

    /// Catches up with frames other processes appended (and segments they started) since this
    /// instance last held the lock. Cheap when nothing changed: one `fstat`, one failed `open`.
    func refreshTail() throws(JournalError) {
        var recoveries: [JournalRecovery] = []
        defer {
            if !recoveries.isEmpty { recoveryLog.withLock { $0.append(contentsOf: recoveries) } }
        }
        if let active = writer.active {
            var status = stat()
            guard fstat(active.handle.fd, &status) == 0 else {
                throw JournalError.io(errno, path: active.handle.path, "cannot stat")
            }
            guard status.st_nlink > 0 else {
                throw JournalError(
                    .corrupt, path: active.handle.path,
                    "the active segment was removed while in use; reopen the journal")
            }
            let size = UInt64(status.st_size)
            if size < writer.tail.offset {
                throw JournalError(
                    .corrupt, path: active.handle.path, offset: size,
                    "the segment shrank from \(writer.tail.offset) to \(size) bytes: committed entries were removed")
            }
            if size > writer.tail.offset {
                writerWindow.reset()
                let scan = try SegmentScan.run(
                    active.handle, window: writerWindow, from: writer.tail, fileEnd: size, verification: .lastHash)
                try Self.resolve(
                    scan, active.handle, window: writerWindow, fileEnd: size, repair: true, recoveries: &recoveries)
                writer.tail = scan.end
            }
        }
        // Another process may have started new segments.
        while writer.active.map({ $0.firstSeq != writer.tail.nextSeq }) ?? true {
            let path = segmentPath(writer.tail.nextSeq)
            let handle: JournalFileHandle
            switch FileIO.open(path, O_RDWR) {
            case .failure(let error) where error.code == ENOENT:
                publish()
                return
            case .failure(let error): throw JournalError.io(error.code, path: path, "cannot open")
            case .success(let fd): handle = JournalFileHandle(fd: fd, path: path)
            }
            let size = try Self.fileSize(handle)
            writerWindow.reset()
            let start = ChainPoint(nextSeq: writer.tail.nextSeq, prevHash: writer.lastHash, offset: 0)
            let scan = try SegmentScan.run(
                handle, window: writerWindow, from: start, fileEnd: size, verification: .lastHash)
            try Self.resolve(scan, handle, window: writerWindow, fileEnd: size, repair: true, recoveries: &recoveries)
            writer.active = ActiveSegment(firstSeq: writer.tail.nextSeq, handle: handle)
            writer.segments.append(writer.tail.nextSeq)
            writer.tail = scan.end
        }
        publish()
    }

    /// Makes the writer's committed state visible to readers.
    func publish() {
        let state = writer
        published.withLock {
            $0.count = state.tail.nextSeq
            $0.lastHash = state.lastHash
            if $0.segments.count != state.segments.count { $0.segments = state.segments }
        }
    }

    func segmentPath(_ firstSeq: UInt64) -> String {
        options.directory + "/" + SegmentName.fileName(firstSeq: firstSeq)
    }

    // MARK: - Recovery

    /// Lists the segments, validates the last one completely (and the link from the one before),
    /// truncates a torn tail, and returns the writer state for the tail.
    static func recoverSegments(
        directory: String, window: ReadWindow, signedSize: UInt64 = 0, recoveries: inout [JournalRecovery]
    ) throws(JournalError) -> WriterState {
        var segments = try listSegments(directory)
        var state = WriterState(
            lockFile: nil, tail: ChainPoint(nextSeq: 0, prevHash: .zero, offset: 0), active: nil, segments: [],
            checkpoints: CheckpointLog(directory: directory), poisoned: nil)
        guard let lastSeq = segments.last else { return state }
        let lastPath = directory + "/" + SegmentName.fileName(firstSeq: lastSeq)
        let last = try openSegment(lastPath)
        let lastSize = try fileSize(last)
        let start = ChainPoint(nextSeq: lastSeq, prevHash: lastSeq == 0 ? .zero : nil, offset: 0)
        let lastScan = try SegmentScan.run(
            last, window: window, from: start, fileEnd: lastSize, verification: .everyHash)
        try resolve(
            lastScan, last, window: window, fileEnd: lastSize, repair: true, signedSize: signedSize, recoveries: &recoveries)
        state.tail = lastScan.end
        state.active = ActiveSegment(firstSeq: lastSeq, handle: last)

        if segments.count >= 2 {
            let previousSeq = segments[segments.count - 2]
            let previous = try openSegment(directory + "/" + SegmentName.fileName(firstSeq: previousSeq))
            let previousSize = try fileSize(previous)
            let previousStart = ChainPoint(nextSeq: previousSeq, prevHash: previousSeq == 0 ? .zero : nil, offset: 0)
            window.reset()
            let previousScan = try SegmentScan.run(
                previous, window: window, from: previousStart, fileEnd: previousSize, verification: .lastHash)
            // The previous segment is synced before the next one is created, so its tail can be
            // torn only if the last segment never received a frame (a crash with `fsync: never`).
            try resolve(
                previousScan, previous, window: window, fileEnd: previousSize, repair: lastScan.frames == 0,
                signedSize: signedSize, recoveries: &recoveries)
            if previousScan.end.nextSeq != lastSeq {
                guard lastScan.frames == 0 else {
                    throw JournalError(
                        .corrupt, path: lastPath,
                        "segment starts at seq \(lastSeq) but the previous segment ends at seq \(Int64(previousScan.end.nextSeq) - 1): entries missing"
                    )
                }
                // An empty segment named after entries a torn tail took away: nothing refers to it.
                if unlink(lastPath) != 0 {
                    throw JournalError.io(errno, path: lastPath, "cannot remove an empty segment")
                }
                try check(FileIO.syncDirectory(directory), path: directory, "cannot sync the journal directory")
                recoveries.append(
                    JournalRecovery(
                        file: lastPath, offset: 0, discardedBytes: 0,
                        reason: "removed an empty segment past the torn tail"))
                segments.removeLast()
                state.active = ActiveSegment(firstSeq: previousSeq, handle: previous)
                state.tail = previousScan.end
            } else if lastScan.frames == 0 {
                state.tail = ChainPoint(nextSeq: lastSeq, prevHash: previousScan.end.prevHash, offset: 0)
            } else {
                window.reset()
                let first = try window.bytes(last, at: 0, count: EntryFrame.headerSize).flatMap {
                    EntryFrame.header(at: $0.baseAddress!)
                }
                if first?.prevHash != previousScan.end.prevHash {
                    throw JournalError(
                        .corrupt, path: lastPath, offset: 0, FrameDefect.prevHashMismatch(seq: lastSeq).description)
                }
            }
        }
        state.segments = segments
        return state
    }

    static func listSegments(_ directory: String) throws(JournalError) -> [UInt64] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            throw JournalError(.io(errno: EIO), path: directory, "cannot list the journal directory: \(error)")
        }
        var segments: [UInt64] = []
        for name in names {
            switch SegmentName.parse(name) {
            case .segment(let firstSeq): segments.append(firstSeq)
            case .malformed:
                throw JournalError(
                    .corrupt, path: directory + "/" + name,
                    "not a segment name the journal writes (entries-<20 digits>.seg)")
            case .otherFile: continue
            }
        }
        segments.sort()
        if let first = segments.first, first != 0 {
            throw JournalError(
                .corrupt, path: directory + "/" + SegmentName.fileName(firstSeq: first),
                "the first segment starts at seq \(first), not 0: earlier segments are missing")
        }
        return segments
    }

    /// Turns a scan's defect into a truncation (a torn tail) or a `.corrupt` error (anything
    /// followed by a valid frame, anything that verifies but links wrongly, anything when
    /// `repair` is false).
    static func resolve(
        _ scan: SegmentScan, _ handle: JournalFileHandle, window: ReadWindow, fileEnd: UInt64, repair: Bool,
        signedSize: UInt64 = 0, recoveries: inout [JournalRecovery]
    ) throws(JournalError) {
        guard let (offset, defect) = scan.defect else { return }
        var message = defect.description
        if defect.canBeTornWrite {
            if scan.end.nextSeq < signedSize {
                message += "; entry \(scan.end.nextSeq) is covered by a signed checkpoint of size \(signedSize), "
                    + "so it was written whole: it was changed or cut afterwards; entries were lost or altered (nothing was truncated)"
            } else if let next = try SegmentScan.nextValidFrame(handle, window: window, after: offset, fileEnd: fileEnd) {
                message += "; a valid frame follows at byte \(next), so this is not a torn tail"
            } else if repair {
                let kept = try keepAside(handle, from: offset, to: fileEnd)
                try check(
                    FileIO.truncate(handle.fd, to: offset), path: handle.path, "cannot truncate a torn tail")
                try check(
                    FileIO.datasync(handle.fd), path: handle.path, "cannot sync after truncating a torn tail")
                recoveries.append(
                    JournalRecovery(
                        file: handle.path, offset: offset, discardedBytes: fileEnd - offset, reason: message, keptAt: kept))
                return
            } else {
                message += " (in a segment that is not the last one)"
            }
        }
        throw JournalError(.corrupt, path: handle.path, offset: offset, message)
    }

    /// Keeps the bytes a recovery is about to cut in `recovered/` (next to the file); refuses
    /// the recovery (so nothing is cut) when they cannot be kept.
    static func keepAside(_ handle: JournalFileHandle, from: UInt64, to: UInt64) throws(JournalError) -> String {
        let directory = (handle.path as NSString).deletingLastPathComponent
        switch FileIO.keepAside(handle, from: from, to: to, directory: directory) {
        case .success(let path): return path
        case .failure(let error):
            throw JournalError.io(error.code, path: handle.path, offset: from, "cannot keep the torn tail aside before removing it (nothing was removed)")
        }
    }

    static func openSegment(_ path: String) throws(JournalError) -> JournalFileHandle {
        switch FileIO.open(path, O_RDWR) {
        case .failure(let error): throw JournalError.io(error.code, path: path, "cannot open")
        case .success(let fd): return JournalFileHandle(fd: fd, path: path)
        }
    }

    static func fileSize(_ handle: JournalFileHandle) throws(JournalError) -> UInt64 {
        switch FileIO.size(handle.fd) {
        case .failure(let error): throw JournalError.io(error.code, path: handle.path, "cannot stat")
        case .success(let size): return size
        }
    }

    static func check(_ error: Int32, path: String, _ action: String) throws(JournalError) {
        if error != 0 { throw JournalError.io(error, path: path, action) }
    }
}
