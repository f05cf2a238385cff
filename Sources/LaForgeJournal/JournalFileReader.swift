import Foundation
import LaForgeCore

#if canImport(Glibc)
    import Glibc
#endif

/// A read-only walk over a journal directory as it lies on disk, for verifiers: every file is
/// opened `O_RDONLY`, nothing is created, truncated or removed, and what a writer's recovery
/// would act on (a torn tail) is reported instead of repaired. `Journal.open` is the writer's
/// path and repairs; a verifier that repaired would destroy the evidence it is there to judge.
///
/// The walk checks what the frames themselves commit to — each header's magic and length, its
/// stored hash against the payload, its seq and its prev_hash against the frame before —
/// and hands every entry payload and checkpoint to the caller in chain order (each checkpoint
/// after the entry that completes it), so the caller can re-check the canonical entries, the
/// Merkle roots and the signatures. It stops at the first problem.
public struct JournalFileReader {
    public let directory: String

    public init(directory: String) { self.directory = directory }

    /// What the walk found wrong. `seq` is the entry at that position (for a checkpoint frame,
    /// the tree size it claims when that can be read).
    public struct Problem: Sendable, CustomStringConvertible {
        public enum Kind: Sendable {
            /// Bytes differ from what was chained: a hash, a link or a frame that does not parse.
            case changed
            /// Entries are absent (a gap in seq, a missing first segment).
            case missing
            /// An entry appears twice or out of order.
            case reordered
            /// The last file ends inside a frame whose header is whole or cut: what a crashed
            /// writer leaves, and what the writer's next open removes (logged, kept aside).
            case tornTail
            /// A checkpoint frame was changed (its digest does not match).
            case checkpointChanged
        }

        public var kind: Kind
        public var seq: UInt64?
        public var file: String
        public var offset: UInt64?
        public var message: String
        /// A changed checkpoint frame's payload, so the caller can tell by its signature whether
        /// the size in the header or the one in the signed note is the true one.
        public var payload: [UInt8]? = nil

        public var location: String { offset.map { "\(file) at byte \($0)" } ?? file }
        public var description: String { "\(location): \(message)" }
    }

    package enum Item {
        /// `leafHash` is the frame's stored hash, already checked against the payload.
        case entry(seq: UInt64, payload: UnsafeRawBufferPointer, leafHash: ChainHash)
        case checkpoint(size: UInt64, payload: [UInt8], location: String)
        case problem(Problem)
    }

    /// The sizes of the files when the walk started: frames other processes append meanwhile
    /// are not read, so a live journal verifies as the prefix that was there.
    public struct Extent: Sendable {
        public var segments: [(firstSeq: UInt64, path: String, size: UInt64)]
        public var checkpointLogSize: UInt64
    }

    public enum OpenError: Error, CustomStringConvertible {
        case noJournal(String)
        case unreadable(String, String)

        public var description: String {
            switch self {
            case .noJournal(let directory): "no journal in \(directory)"
            case .unreadable(let path, let reason): "cannot read \(path): \(reason)"
            }
        }
    }

    var checkpointLogPath: String { directory + "/" + CheckpointLog.fileName }

    /// Lists the files and their sizes, holding the writers' lock shared for that moment only
    /// (so no append is half-way through a frame when the sizes are taken). The lock file is
    /// opened read-only and never created.
    public func extent() throws(OpenError) -> Extent {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw .noJournal(directory)
        }
        var lockFD: Int32 = -1
        if case .success(let fd) = FileIO.open(directory + "/lock", O_RDONLY) {
            lockFD = fd
            while flock(fd, LOCK_SH) != 0, errno == EINTR {}
        }
        defer {
            if lockFD >= 0 {
                _ = flock(lockFD, LOCK_UN)
                _ = close(lockFD)
            }
        }
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: directory) } catch {
            throw .unreadable(directory, "\(error)")
        }
        var segments: [(firstSeq: UInt64, path: String, size: UInt64)] = []
        for name in names {
            guard case .segment(let firstSeq) = SegmentName.parse(name) else { continue }
            let path = directory + "/" + name
            segments.append((firstSeq, path, try Self.size(of: path)))
        }
        segments.sort { $0.firstSeq < $1.firstSeq }
        let checkpointSize = FileManager.default.fileExists(atPath: checkpointLogPath) ? try Self.size(of: checkpointLogPath) : 0
        return Extent(segments: segments, checkpointLogSize: checkpointSize)
    }

    private static func size(of path: String) throws(OpenError) -> UInt64 {
        var status = stat()
        guard stat(path, &status) == 0 else { throw .unreadable(path, String(cString: strerror(errno))) }
        return UInt64(status.st_size)
    }

    /// Every checkpoint frame of `checkpoints.log` up to `size`, or the problem that stopped
    /// the read (returned with the frames before it).
    public func checkpoints(upTo size: UInt64) -> (frames: [(StoredCheckpoint, String)], problem: Problem?) {
        guard size > 0 else { return ([], nil) }
        let path = checkpointLogPath
        guard case .success(let fd) = FileIO.open(path, O_RDONLY) else {
            return ([], Problem(kind: .changed, seq: nil, file: path, offset: nil, message: "cannot open: \(String(cString: strerror(errno)))"))
        }
        let handle = JournalFileHandle(fd: fd, path: path)
        let window = ReadWindow()
        var frames: [(StoredCheckpoint, String)] = []
        var offset: UInt64 = 0
        var previous: UInt64?
        do {
            while offset < size {
                let available = size - offset
                let header = try window.bytes(handle, at: offset, count: min(Int(available), CheckpointFrame.headerSize))
                guard available >= UInt64(CheckpointFrame.headerSize), let header,
                    let payloadCount = CheckpointFrame.payloadCount(at: header.baseAddress!)
                else {
                    let prefix = header.map { Self.isMagicPrefix($0, magic: CheckpointFrame.magic) } ?? false
                    if available < UInt64(CheckpointFrame.headerSize), prefix {
                        return (frames, torn(path, offset, available, what: "checkpoint frame"))
                    }
                    // A whole header still names a size, and a length that fits still frames a
                    // note whose signature may name the true size: located like a digest mismatch.
                    var claimed = previous
                    var payload: [UInt8]?
                    if let header, available >= UInt64(CheckpointFrame.headerSize) {
                        claimed = UInt64(littleEndian: header.baseAddress!.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
                        let length = UInt64(UInt32(littleEndian: header.baseAddress!.loadUnaligned(fromByteOffset: 4, as: UInt32.self)))
                        if length <= 16 << 20, available >= UInt64(CheckpointFrame.frameCount(payloadCount: Int(length))),
                            let frame = try window.bytes(handle, at: offset, count: CheckpointFrame.frameCount(payloadCount: Int(length)))
                        {
                            payload = [UInt8](frame[CheckpointFrame.headerSize..<(CheckpointFrame.headerSize + Int(length))])
                        }
                    }
                    return (
                        frames,
                        Problem(
                            kind: .checkpointChanged, seq: claimed, file: path, offset: offset,
                            message: "not a checkpoint frame (bad magic or length) after the checkpoint of size \(previous.map(String.init) ?? "none")",
                            payload: payload)
                    )
                }
                let claimed = UInt64(littleEndian: header.baseAddress!.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
                let frameCount = CheckpointFrame.frameCount(payloadCount: payloadCount)
                guard available >= UInt64(frameCount), let frame = try window.bytes(handle, at: offset, count: frameCount) else {
                    return (frames, torn(path, offset, available, what: "checkpoint frame"))
                }
                guard let checkpoint = CheckpointFrame.decode(frame) else {
                    let payload = UnsafeRawBufferPointer(rebasing: frame[CheckpointFrame.headerSize..<(CheckpointFrame.headerSize + payloadCount)])
                    return (
                        frames,
                        Problem(
                            kind: .checkpointChanged, seq: claimed, file: path, offset: offset,
                            message: "the checkpoint frame's digest does not match its size and payload: a stored checkpoint was changed",
                            payload: [UInt8](payload))
                    )
                }
                if let previous, checkpoint.size < previous {
                    return (
                        frames,
                        Problem(
                            kind: .checkpointChanged, seq: checkpoint.size, file: path, offset: offset,
                            message: "the checkpoint of size \(checkpoint.size) follows one of size \(previous): checkpoints only grow")
                    )
                }
                previous = checkpoint.size
                frames.append((checkpoint, "journal checkpoint of size \(checkpoint.size) (\(path) at byte \(offset))"))
                offset += UInt64(frameCount)
            }
        } catch {
            return (frames, Problem(kind: .changed, seq: nil, file: path, offset: offset, message: "\(error)"))
        }
        return (frames, nil)
    }

    /// An entry frame whose payload does not hash to the hash in its header.
    package static func storedHashProblem(seq: UInt64, file: String, offset: UInt64) -> Problem {
        Problem(
            kind: .changed, seq: seq, file: file, offset: offset,
            message: "entry \(seq)'s stored hash does not match SHA-256(0x00 ‖ payload): its bytes were changed")
    }

    private static func isMagicPrefix(_ bytes: UnsafeRawBufferPointer, magic: UInt32) -> Bool {
        withUnsafeBytes(of: magic.littleEndian) { magicBytes in
            zip(bytes.prefix(4), magicBytes).allSatisfy { $0 == $1 }
        }
    }

    private func torn(_ path: String, _ offset: UInt64, _ available: UInt64, what: String) -> Problem {
        Problem(
            kind: .tornTail, seq: nil, file: path, offset: offset,
            message: "the file ends inside a \(what) (\(available) bytes from byte \(offset) to the end): a write torn by a crash, "
                + "which the writer removes (and keeps aside) when it next opens the journal, or the file was cut")
    }

    /// How many whole entry frames `extent` holds: the last segment's first seq plus the frames
    /// its headers describe (no hashing: a count for status, not a verification).
    public func entryCount(extent: Extent) -> UInt64 {
        guard let last = extent.segments.last else { return 0 }
        guard case .success(let fd) = FileIO.open(last.path, O_RDONLY) else { return last.firstSeq }
        let handle = JournalFileHandle(fd: fd, path: last.path)
        let window = ReadWindow()
        var count = last.firstSeq
        var offset: UInt64 = 0
        while last.size - offset >= UInt64(EntryFrame.headerSize),
            let bytes = try? window.bytes(handle, at: offset, count: EntryFrame.headerSize),
            let header = EntryFrame.header(at: bytes.baseAddress!), last.size - offset >= UInt64(header.frameCount)
        {
            count += 1
            offset += UInt64(header.frameCount)
        }
        return count
    }

    /// Visits the entries of the segments in `extent` in chain order, with the checkpoints in
    /// `checkpoints` placed after the entry that completes each, and any problem (after which
    /// the walk stops; after a torn tail, which may be a crash's, the checkpoints not yet placed
    /// still follow, since a signed checkpoint beyond the tear names entries that were there).
    /// `visit` returns false to stop.
    ///
    /// `from` > 0 skips the segments wholly before that seq (a reader following the end; the
    /// skipped frames are not checked, and the first frame read is not linked to its predecessor).
    ///
    /// With `checkingHashes` false the caller checks each entry's `leafHash` (the stored hash,
    /// not yet compared) against its payload itself, in order, before anything after it (a
    /// verifier hashing on other cores); a frame whose seq or prev_hash is wrong is still
    /// hashed here first, so its changed bytes are reported before its header.
    package func walk(
        extent: Extent, checkpoints: [(StoredCheckpoint, String)], from: UInt64 = 0, checkingHashes: Bool = true, _ visit: (Item) -> Bool
    ) {
        var segments = extent.segments[...]
        if from > 0, let start = segments.lastIndex(where: { $0.firstSeq <= from }) { segments = segments[start...] }
        let firstSeq = segments.first?.firstSeq ?? 0
        var pendingCheckpoints = checkpoints.drop { $0.0.size < firstSeq }
        func placeCheckpoints(upTo size: UInt64) -> Bool {
            while let (checkpoint, location) = pendingCheckpoints.first, checkpoint.size <= size {
                pendingCheckpoints.removeFirst()
                guard visit(.checkpoint(size: checkpoint.size, payload: checkpoint.payload, location: location)) else { return false }
            }
            return true
        }
        guard placeCheckpoints(upTo: 0) else { return }
        var expected: UInt64 = firstSeq
        var previousHash: ChainHash? = firstSeq == 0 ? ChainHash.zero : nil
        let window = ReadWindow()
        for (index, segment) in segments.enumerated() {
            let isLast = index == segments.count - 1
            if segment.firstSeq != expected {
                let problem: Problem
                if segment.firstSeq > expected {
                    let range = segment.firstSeq - expected == 1 ? "entry \(expected) is" : "entries \(expected)…\(segment.firstSeq - 1) are"
                    problem = Problem(
                        kind: .missing, seq: expected, file: segment.path, offset: nil,
                        message: "\(range) missing: "
                            + (index == 0 ? "the first segment starts at seq \(segment.firstSeq) (earlier segments were removed)"
                                : "the segment starts at seq \(segment.firstSeq) but the one before ends at seq \(Int64(expected) - 1)"))
                } else {
                    problem = Problem(
                        kind: .reordered, seq: segment.firstSeq, file: segment.path, offset: nil,
                        message: "the segment starts at seq \(segment.firstSeq), which the segment before already holds")
                }
                _ = visit(.problem(problem))
                return
            }
            guard case .success(let fd) = FileIO.open(segment.path, O_RDONLY) else {
                _ = visit(.problem(Problem(kind: .changed, seq: expected, file: segment.path, offset: nil, message: "cannot open: \(String(cString: strerror(errno)))")))
                return
            }
            let handle = JournalFileHandle(fd: fd, path: segment.path)
            window.reset()
            var offset: UInt64 = 0
            do {
                while offset < segment.size {
                    let available = segment.size - offset
                    let headerBytes = try window.bytes(handle, at: offset, count: min(Int(available), EntryFrame.headerSize))
                    let header = available >= UInt64(EntryFrame.headerSize) ? headerBytes.flatMap { EntryFrame.header(at: $0.baseAddress!) } : nil
                    guard let header else {
                        let prefix = headerBytes.map { Self.isMagicPrefix($0, magic: EntryFrame.magic) } ?? false
                        if isLast, available < UInt64(EntryFrame.headerSize), prefix {
                            if visit(.problem(torn(segment.path, offset, available, what: "frame header"))) { _ = placeCheckpoints(upTo: .max) }
                        } else {
                            _ = visit(.problem(Problem(
                                kind: .changed, seq: expected, file: segment.path, offset: offset,
                                message: "entry \(expected)'s frame is not a frame (bad magic or length, \(available) bytes to the end of the file)"
                                    + (offset > 0 ? ": bytes were changed or appended after entry \(Int64(expected) - 1)" : ""))))
                        }
                        return
                    }
                    guard available >= UInt64(header.frameCount) else {
                        if isLast {
                            if visit(.problem(torn(segment.path, offset, available, what: "frame of entry \(expected)"))) {
                                _ = placeCheckpoints(upTo: .max)
                            }
                        } else {
                            _ = visit(.problem(Problem(
                                kind: .changed, seq: expected, file: segment.path, offset: offset,
                                message: "entry \(expected)'s frame runs past the end of a segment that is not the last: the segment was cut")))
                        }
                        return
                    }
                    guard let payload = try window.bytes(handle, at: offset + UInt64(EntryFrame.headerSize), count: header.payloadCount) else {
                        if visit(.problem(torn(segment.path, offset, available, what: "frame of entry \(expected)"))) { _ = placeCheckpoints(upTo: .max) }
                        return
                    }
                    let headerHolds = header.seq == expected && (previousHash.map { header.prevHash == $0 } ?? true)
                    if checkingHashes || !headerHolds, ChainHash.leafHash(of: payload) != header.hash {
                        _ = visit(.problem(Self.storedHashProblem(seq: expected, file: segment.path, offset: offset)))
                        return
                    }
                    if header.seq != expected {
                        _ = visit(.problem(Problem(
                            kind: header.seq < expected ? .reordered : .missing, seq: expected, file: segment.path, offset: offset,
                            message: header.seq < expected
                                ? "entry \(header.seq) appears again where entry \(expected) belongs"
                                : "the frame where entry \(expected) belongs holds entry \(header.seq): entries \(expected)…\(header.seq - 1) are missing")))
                        return
                    }
                    if let previousHash, header.prevHash != previousHash {
                        _ = visit(.problem(Problem(
                            kind: .changed, seq: expected, file: segment.path, offset: offset,
                            message: "entry \(expected)'s prev_hash \(header.prevHash.bytes.hexString) is not entry \(Int64(expected) - 1)'s hash "
                                + "\(previousHash.bytes.hexString): the chain is broken here")))
                        return
                    }
                    guard visit(.entry(seq: expected, payload: payload, leafHash: header.hash)) else { return }
                    previousHash = header.hash
                    expected += 1
                    offset += UInt64(header.frameCount)
                    guard placeCheckpoints(upTo: expected) else { return }
                }
            } catch {
                _ = visit(.problem(Problem(kind: .changed, seq: expected, file: segment.path, offset: offset, message: "\(error)")))
                return
            }
        }
        // Checkpoints beyond the entries: the verifier reports the entries they cover as missing.
        while let (checkpoint, location) = pendingCheckpoints.first {
            pendingCheckpoints.removeFirst()
            guard visit(.checkpoint(size: checkpoint.size, payload: checkpoint.payload, location: location)) else { return }
        }
    }
}
