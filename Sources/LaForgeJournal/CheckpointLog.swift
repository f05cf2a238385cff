import LaForgeCore

#if canImport(Glibc)
    import Glibc
#endif

/// `checkpoints.log`: the checkpointer's signed notes, appended under the journal's exclusive
/// lock. Recovered like a segment: a torn last frame is cut off, anything else bad is an error.
struct CheckpointLog {
    static let fileName = "checkpoints.log"

    let path: String
    private(set) var handle: JournalFileHandle?
    /// End of the last frame known good; frames beyond it were appended by another process since.
    private(set) var validLength: UInt64 = 0
    private(set) var count = 0
    private(set) var last: StoredCheckpoint?
    /// What `readAll` has read so far: the frames and where they end.
    private var readFrames: [StoredCheckpoint] = []
    private var readLength: UInt64 = 0

    init(directory: String) {
        path = directory + "/" + CheckpointLog.fileName
    }

    enum Defect: CustomStringConvertible {
        case shortFrame(available: UInt64)
        case badHeader
        case digestMismatch
        case sizeDecreased(previous: UInt64, found: UInt64)

        var description: String {
            switch self {
            case .shortFrame(let available): return "incomplete checkpoint frame (\(available) bytes left in the file)"
            case .badHeader: return "not a checkpoint frame (bad magic or length)"
            case .digestMismatch: return "checkpoint digest does not match its size and payload (changed or torn)"
            case .sizeDecreased(let previous, let found):
                return "checkpoint for tree size \(found) follows one for size \(previous): checkpoints never go back"
            }
        }

        var canBeTornWrite: Bool {
            if case .sizeDecreased = self { return false }
            return true
        }
    }

    /// Brings the state up to the file's current end (frames other processes appended), cutting
    /// off a torn tail. Call with the journal's exclusive lock held.
    mutating func refresh(window: ReadWindow, recoveries: inout [JournalRecovery]) throws(JournalError) {
        if handle == nil {
            switch FileIO.open(path, O_RDWR) {
            case .failure(let error) where error.code == ENOENT: return
            case .failure(let error): throw JournalError.io(error.code, path: path, "cannot open")
            case .success(let fd): handle = JournalFileHandle(fd: fd, path: path)
            }
        }
        guard let handle else { return }
        let size: UInt64
        switch FileIO.size(handle.fd) {
        case .failure(let error): throw JournalError.io(error.code, path: path, "cannot stat")
        case .success(let value): size = value
        }
        if size < validLength {
            throw JournalError(
                .corrupt, path: path, offset: size,
                "the file shrank from \(validLength) to \(size) bytes: checkpoints were removed outside the journal")
        }
        guard size > validLength else { return }
        window.reset()
        let scan = try Self.scan(handle, window: window, from: validLength, to: size, lastSize: last?.size) { _ in }
        if let (offset, defect) = scan.defect {
            let next =
                defect.canBeTornWrite
                ? try Self.nextValidFrame(handle, window: window, after: offset, fileEnd: size) : nil
            guard defect.canBeTornWrite, next == nil else {
                var message = defect.description
                if let next { message += "; a valid checkpoint follows at byte \(next), so this is not a torn tail" }
                throw JournalError(.corrupt, path: path, offset: offset, message)
            }
            let kept = try Journal.keepAside(handle, from: offset, to: size)
            try Journal.check(
                FileIO.truncate(handle.fd, to: offset), path: path, "cannot truncate a torn checkpoint frame")
            try Journal.check(
                FileIO.datasync(handle.fd), path: path, "cannot sync after truncating a torn checkpoint frame")
            // A frame of its full length whose digest fails was not cut short by a crash (a
            // power loss can still leave one): it may be a signed checkpoint changed on disk.
            var wholeLength = false
            if case .digestMismatch = defect { wholeLength = true }
            recoveries.append(
                JournalRecovery(
                    file: path, offset: offset, discardedBytes: size - offset, reason: defect.description, keptAt: kept,
                    mayBeSignedCheckpoint: wholeLength))
        }
        validLength = scan.end
        count += scan.count
        if let lastFound = scan.last { last = lastFound }
    }

    /// Every checkpoint up to `validLength`, in order. Frames read once are kept (the file is
    /// append-only), so a delivery worker asking after every batch reads only the new ones.
    mutating func readAll(window: ReadWindow) throws(JournalError) -> [StoredCheckpoint] {
        guard let handle, validLength > 0 else { return [] }
        if readLength > validLength {
            readFrames = []
            readLength = 0
        }
        guard readLength < validLength else { return readFrames }
        window.reset()
        var added: [StoredCheckpoint] = []
        let scan = try Self.scan(handle, window: window, from: readLength, to: validLength, lastSize: readFrames.last?.size) {
            added.append($0)
        }
        if let (offset, defect) = scan.defect {
            throw JournalError(.corrupt, path: path, offset: offset, defect.description)
        }
        readFrames += added
        readLength = scan.end
        return readFrames
    }

    /// Appends one frame and syncs it (unless `sync` is false). On failure nothing of the frame
    /// stays in the file; a failed sync is reported as `.notDurable`.
    mutating func append(size: UInt64, payload: [UInt8], sync: Bool, directory: String) throws(JournalError) {
        guard payload.count <= CheckpointFrame.maxPayload else {
            throw JournalError(
                .invalidArgument, path: path,
                "checkpoint payload of \(payload.count) bytes exceeds \(CheckpointFrame.maxPayload)")
        }
        if handle == nil {
            switch FileIO.open(path, O_RDWR | O_CREAT) {
            case .failure(let error): throw JournalError.io(error.code, path: path, "cannot create")
            case .success(let fd): handle = JournalFileHandle(fd: fd, path: path)
            }
            try Journal.check(
                FileIO.syncDirectory(directory), path: directory,
                "cannot sync the directory after creating \(path)")
        }
        guard let handle else { return }
        let frame = CheckpointFrame.encode(size: size, payload: payload)
        let start = validLength
        var failure = frame.withUnsafeBytes { FileIO.pwriteAll(handle.fd, $0, at: start) }
        var kind = JournalError.Kind.io(errno: failure)
        if failure == 0, sync {
            failure = FileIO.datasync(handle.fd)
            kind = .notDurable
        }
        guard failure == 0 else {
            _ = FileIO.truncate(handle.fd, to: start)
            let reason = String(cString: strerror(failure))
            throw JournalError(
                kind, path: path, offset: start,
                kind == .notDurable
                    ? "fdatasync failed (\(reason)); the checkpoint was removed and this journal refuses writes until reopened"
                    : "cannot write a checkpoint: \(reason); nothing was written")
        }
        validLength += UInt64(frame.count)
        count += 1
        last = StoredCheckpoint(size: size, payload: payload)
    }

    struct Scan {
        var end: UInt64
        var count = 0
        var last: StoredCheckpoint?
        var defect: (offset: UInt64, defect: Defect)?
    }

    static func scan(
        _ handle: JournalFileHandle, window: ReadWindow, from start: UInt64, to fileEnd: UInt64, lastSize: UInt64?,
        _ visit: (StoredCheckpoint) -> Void
    ) throws(JournalError) -> Scan {
        var scan = Scan(end: start)
        var previousSize = lastSize
        while scan.end < fileEnd {
            let offset = scan.end
            let available = fileEnd - offset
            guard available >= UInt64(CheckpointFrame.headerSize) else {
                scan.defect = (offset, .shortFrame(available: available))
                return scan
            }
            guard let header = try window.bytes(handle, at: offset, count: CheckpointFrame.headerSize),
                let payloadCount = CheckpointFrame.payloadCount(at: header.baseAddress!)
            else {
                scan.defect = (offset, .badHeader)
                return scan
            }
            let frameCount = CheckpointFrame.frameCount(payloadCount: payloadCount)
            guard available >= UInt64(frameCount), let frame = try window.bytes(handle, at: offset, count: frameCount)
            else {
                scan.defect = (offset, .shortFrame(available: available))
                return scan
            }
            guard let checkpoint = CheckpointFrame.decode(frame) else {
                scan.defect = (offset, .digestMismatch)
                return scan
            }
            if let previousSize, checkpoint.size < previousSize {
                scan.defect = (offset, .sizeDecreased(previous: previousSize, found: checkpoint.size))
                return scan
            }
            previousSize = checkpoint.size
            visit(checkpoint)
            scan.end = offset + UInt64(frameCount)
            scan.count += 1
            scan.last = checkpoint
        }
        return scan
    }

    static func nextValidFrame(
        _ handle: JournalFileHandle, window: ReadWindow, after offset: UInt64, fileEnd: UInt64
    ) throws(JournalError) -> UInt64? {
        var candidate = offset + 1
        while candidate + UInt64(CheckpointFrame.headerSize) <= fileEnd {
            defer { candidate += 1 }
            guard let header = try window.bytes(handle, at: candidate, count: CheckpointFrame.headerSize),
                let payloadCount = CheckpointFrame.payloadCount(at: header.baseAddress!)
            else { continue }
            let frameCount = CheckpointFrame.frameCount(payloadCount: payloadCount)
            guard candidate + UInt64(frameCount) <= fileEnd,
                let frame = try window.bytes(handle, at: candidate, count: frameCount),
                CheckpointFrame.decode(frame) != nil
            else { continue }
            return candidate
        }
        return nil
    }
}
