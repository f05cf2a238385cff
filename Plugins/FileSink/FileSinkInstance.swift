import PluginABI

#if canImport(Glibc)
    import Glibc
#endif

/// One configured FileSink: the active file, the marks that make re-sent batches no-ops, and
/// the rotation and reopen state. Called serially (the vtable declares SERIAL), so no locking.
final class FileSinkInstance: FlushingAuditSink, ReopeningAuditSink {
    private let host: HostServices
    private var config: FileSinkConfig?
    private var file: ActiveFile?
    private var marks = StoredMarks()
    /// The lines of the batch being written, kept between calls: a fresh megabyte-sized buffer
    /// per batch costs page faults on every write.
    private var lineBuffer: [UInt8] = []
    /// Monotonic second at which the active file was opened or created (for rotate_seconds).
    private var activeSince: Int64 = 0
    /// Set by health() when the path no longer names the open file.
    private var reopenRequested = false
    let lastError = LastErrorBuffer()

    static let bytesCounter = "laforge_filesink_bytes_total"
    static let recordsCounter = "laforge_filesink_records_total"

    init(host: HostServices) { self.host = host }

    deinit { file?.closeFile() }

    // MARK: create

    /// Reads the configuration and opens the file. A permission or path problem fails create;
    /// a transient one (EIO, ENOSPC, EMFILE) is logged and retried at the first write, so a
    /// full disk at start-up does not keep the whole host from starting.
    func configure(_ json: [UInt8]) throws(FileSinkError) {
        let config = try FileSinkConfig(json: json)
        self.config = config
        do {
            try openActiveFile(config)
        } catch  where error.status == Status.retry {
            host.log(LAFORGE_LOG_WARNING, "\(error.message); will retry at the first write")
        }
    }

    private func openActiveFile(_ config: FileSinkConfig) throws(FileSinkError) {
        let directory = PathName.directory(of: config.path)
        if config.createDirectories {
            try SystemCall.makeDirectories(directory, mode: 0o700)
        }
        let opened = try ActiveFile(path: config.path, mode: config.fileMode, sync: config.fsync != .never)
        if opened.truncatedTornBytes > 0 {
            host.log(
                LAFORGE_LOG_WARNING,
                "\(config.path): removed a torn last line (\(opened.truncatedTornBytes) bytes without a newline), "
                    + "left by a crash during a write; the host re-sends those records")
        }
        if opened.created && config.fsync == .always {
            try SystemCall.syncDirectory(directory)
        }
        let warn = { (message: String) in self.host.log(LAFORGE_LOG_WARNING, message) }
        var found = try StoredMarks.read(fd: opened.fd, path: config.path, size: opened.size, warn: warn)
        if !found.isComplete {
            // A fresh active file after a rotation: the newest rotated file ends with the last
            // checkpoint and holds the last entries, which a re-sent batch may repeat.
            let rotated = RotatedFiles(activePath: config.path)
            if let number = try? rotated.highestNumber(), number > 0,
                let older = try? StoredMarks.read(path: rotated.path(number: number), warn: warn)
            {
                found.merge(older)
            }
        }
        marks.merge(found)
        file = opened
        activeSince = SystemCall.monotonicSeconds()
        reopenRequested = false
    }

    /// Reopens after health() found the file moved; opens after a failure.
    private func prepareFile(_ config: FileSinkConfig) throws(FileSinkError) -> ActiveFile {
        if reopenRequested, file != nil {
            try reopenActiveFile(config, reason: "the file was moved")
        }
        if file == nil { try openActiveFile(config) }
        let active = file!
        let knownSize = active.size
        try active.refreshSize()
        if active.size != knownSize {
            // Another writer (a second process delivering to the same file) appended since our
            // last write: re-learn what is stored so a re-sent record is still skipped.
            let warn = { (message: String) in self.host.log(LAFORGE_LOG_WARNING, message) }
            marks.merge(try StoredMarks.read(fd: active.fd, path: config.path, size: active.size, warn: warn))
        }
        return active
    }

    /// Closes the active file and opens its path again, so what logrotate renamed is left
    /// alone and the next line goes to the new file. The records' marks stay: a re-sent batch is
    /// still skipped.
    private func reopenActiveFile(_ config: FileSinkConfig, reason: String) throws(FileSinkError) {
        file?.closeFile()
        file = nil
        try openActiveFile(config)
        host.log(
            LAFORGE_LOG_INFO,
            "reopened \(config.path) after \(reason) (\(file!.created ? "new file" : "\(file!.size) bytes"))")
    }

    // MARK: reopen

    /// The host's reopen (ABI 1.2), sent on SIGHUP: logrotate renamed the file and signalled the
    /// host. A file that cannot be opened now is opened by the next write (RETRY).
    func reopen() -> Int32 {
        guard let config else { return fail(FileSinkError(Status.internalError, "reopen called on an unconfigured instance")) }
        do {
            try reopenActiveFile(config, reason: "the host's reopen (SIGHUP)")
        } catch {
            return fail(FileSinkError(Status.retry, "\(error.message); the next write tries again"))
        }
        return Status.ok
    }

    // MARK: write

    func write(_ batchPointer: UnsafePointer<laforge_audit_batch>?) -> WriteResult {
        guard let config else {
            return WriteResult(
                status: fail(FileSinkError(Status.internalError, "write called on an unconfigured instance")), stored: 0)
        }
        guard let batchPointer else {
            return WriteResult(status: fail(FileSinkError(Status.internalError, "write: batch is NULL")), stored: 0)
        }
        let batch = copySizePrefixed(UnsafeRawPointer(batchPointer), into: laforge_audit_batch())
        guard batch.count > 0 else { return WriteResult(status: Status.ok, stored: 0) }
        guard let records = batch.records else {
            return WriteResult(
                status: fail(FileSinkError(Status.internalError, "write: records is NULL for \(batch.count) records")), stored: 0)
        }

        var active: ActiveFile
        do {
            active = try prepareFile(config)
        } catch {
            file = nil
            // write may only answer OK, RETRY or PERMANENT_ERROR; a file that cannot be opened
            // now may be openable after the operator fixes it.
            return WriteResult(status: fail(FileSinkError(Status.retry, error.message)), stored: 0)
        }
        var segment = PendingSegment(marks: marks, bytes: lineBuffer)
        lineBuffer = []
        defer {
            segment.bytes.removeAll(keepingCapacity: true)
            lineBuffer = segment.bytes
        }
        // Records [0, committed) are durably stored (written, or found already stored).
        var committed = 0

        // One write loop (and one fdatasync) for all of the segment's lines.
        func commit(through end: Int) throws(FileSinkError) {
            if !segment.bytes.isEmpty {
                let before = active.size
                do {
                    try active.append(segment.bytes)
                    if config.fsync != .never { try active.sync(discardingAfter: before) }
                } catch {
                    // The file was cut back to `before`. Reopen at the next write anyway: if the
                    // cut itself failed, the torn-line check on open removes the partial line.
                    active.closeFile()
                    file = nil
                    throw error
                }
                marks = segment.marks
                host.counterAdd(Self.bytesCounter, Double(segment.bytes.count))
                host.counterAdd(Self.recordsCounter, Double(segment.records))
                segment.bytes.removeAll(keepingCapacity: true)
                segment.records = 0
            }
            committed = end
        }

        func permanent(_ index: Int, _ message: String) -> WriteResult {
            do {
                try commit(through: index)
            } catch {
                return WriteResult(status: fail(error), stored: committed)
            }
            return WriteResult(status: fail(FileSinkError(Status.permanentError, message)), stored: index)
        }

        for index in 0..<batch.count {
            guard let recordPointer = records[index] else { return permanent(index, "record \(index) of the batch is NULL") }
            let record = copySizePrefixed(UnsafeRawPointer(recordPointer), into: laforge_audit_record())
            let data: UnsafeBufferPointer<UInt8>
            if record.data_len == 0 {
                data = UnsafeBufferPointer(start: nil, count: 0)
            } else if let pointer = record.data {
                data = UnsafeBufferPointer(
                    start: UnsafeRawPointer(pointer).assumingMemoryBound(to: UInt8.self), count: record.data_len)
            } else {
                return permanent(index, "record seq \(record.seq) has data NULL with data_len \(record.data_len)")
            }

            switch record.kind {
            case UInt32(LAFORGE_RECORD_ENTRY.rawValue):
                if segment.marks.isStored(entry: record.seq) { continue }
                guard !data.isEmpty else { return permanent(index, "entry seq \(record.seq) has no data") }
                // A raw newline would split the entry over two lines and break every reader.
                guard memchr(data.baseAddress!, Int32(UInt8(ascii: "\n")), data.count) == nil else {
                    return permanent(index, "entry seq \(record.seq) contains a raw newline; canonical JSON never does")
                }
                segment.bytes.append(contentsOf: data)
                segment.bytes.append(UInt8(ascii: "\n"))
                segment.marks.lastEntrySeq = record.seq
                segment.records += 1

            case UInt32(LAFORGE_RECORD_CHECKPOINT.rawValue):
                if segment.marks.isStored(checkpoint: record.seq) { continue }
                guard String(validating: data, as: UTF8.self) != nil else {
                    return permanent(index, "checkpoint of size \(record.seq) is not valid UTF-8")
                }
                RecordLine.appendCheckpoint(data, to: &segment.bytes)
                segment.marks.lastCheckpointSize = record.seq
                segment.records += 1
                // Rotate only right after a checkpoint, so every rotated file ends with one, and
                // start the new file with the same checkpoint: its signed frontier is where a
                // verifier of that file alone starts (`laforge verify chain --file`).
                if rotationDue(config, size: active.size + UInt64(segment.bytes.count)) {
                    do {
                        try commit(through: index + 1)
                        let previous = active
                        active = try rotate(config, active)
                        if active !== previous {
                            RecordLine.appendCheckpoint(data, to: &segment.bytes)
                            segment.records += 1
                        }
                    } catch {
                        return WriteResult(status: fail(error), stored: committed)
                    }
                }

            default:
                return permanent(index, "record seq \(record.seq) has kind \(record.kind), which ABI 1.0 does not define")
            }
        }
        do {
            try commit(through: batch.count)
        } catch {
            return WriteResult(status: fail(error), stored: committed)
        }
        return WriteResult(status: Status.ok, stored: batch.count)
    }

    // MARK: rotation

    private func rotationDue(_ config: FileSinkConfig, size: UInt64) -> Bool {
        if config.rotateBytes > 0 && size >= config.rotateBytes { return true }
        if config.rotateSeconds > 0 {
            let age = SystemCall.monotonicSeconds() - activeSince
            if age >= 0 && UInt64(age) >= config.rotateSeconds { return true }
        }
        return false
    }

    /// Renames the active file (everything in it committed) to the next `path.N` and opens a
    /// fresh one. A failed rename is logged and the sink keeps appending: the next checkpoint
    /// tries again, so rotated files still always end with a checkpoint.
    private func rotate(_ config: FileSinkConfig, _ current: ActiveFile) throws(FileSinkError) -> ActiveFile {
        let rotatedName: String
        do {
            rotatedName = try RotatedFiles(activePath: config.path).rotateActiveFile()
        } catch {
            host.log(LAFORGE_LOG_WARNING, "cannot rotate: \(error.message); still appending to \(config.path)")
            return current
        }
        let rotatedSize = current.size
        current.closeFile()
        file = nil
        try openActiveFile(config)
        if config.fsync != .never {
            do {
                try SystemCall.syncDirectory(PathName.directory(of: config.path))
            } catch {
                host.log(LAFORGE_LOG_WARNING, "after rotating: \(error.message)")
            }
        }
        host.log(LAFORGE_LOG_INFO, "rotated \(config.path) to \(rotatedName) (\(rotatedSize) bytes, ends with a checkpoint)")
        return file!
    }

    // MARK: flush and health

    func flush() -> Int32 {
        guard let file else { return Status.ok }  // nothing written since the last failure
        do {
            try file.sync()
        } catch {
            return fail(error)
        }
        return Status.ok
    }

    func health() -> Int32 {
        guard let config else { return fail(FileSinkError(Status.internalError, "health called on an unconfigured instance")) }
        guard let file else {
            return fail(FileSinkError(Status.retry, "\(config.path) is not open; the next write opens it"))
        }
        do {
            if try !file.pathStillRefersToFile() {
                reopenRequested = true
                return fail(FileSinkError(Status.retry, "\(config.path): file was moved; will reopen"))
            }
        } catch {
            return fail(FileSinkError(Status.retry, error.message))
        }
        return Status.ok
    }
}

/// The lines of a batch not yet handed to write(), and the marks they will set once durable.
private struct PendingSegment {
    var bytes: [UInt8] = []
    var records = 0
    var marks: StoredMarks

    init(marks: StoredMarks, bytes: [UInt8]) {
        self.marks = marks
        self.bytes = bytes
        self.bytes.reserveCapacity(64 * 1024)
    }
}
