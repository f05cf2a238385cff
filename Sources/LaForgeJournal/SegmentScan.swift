import LaForgeCore

#if canImport(Glibc)
    import Glibc
#endif

/// A position in the chain: the next frame is expected at `offset` with seq `nextSeq` and
/// `prev_hash == prevHash` (nil when unknown, e.g. at the start of a segment read on its own).
struct ChainPoint: Equatable {
    var nextSeq: UInt64
    var prevHash: ChainHash?
    var offset: UInt64
}

/// What is wrong with the first bad frame a scan met.
enum FrameDefect: Equatable, CustomStringConvertible {
    case shortHeader(available: UInt64)
    case badHeader
    case shortPayload(expected: Int, available: UInt64)
    case hashMismatch(seq: UInt64)
    case seqMismatch(expected: UInt64, found: UInt64)
    case prevHashMismatch(seq: UInt64)

    var description: String {
        switch self {
        case .shortHeader(let available):
            return "incomplete frame header (\(available) of \(EntryFrame.headerSize) bytes)"
        case .badHeader:
            return "not a frame header (bad magic or a length beyond \(EntryFrame.maxPayload) bytes)"
        case .shortPayload(let expected, let available):
            return "incomplete payload (\(available) of \(expected) bytes)"
        case .hashMismatch(let seq):
            return "seq \(seq): stored hash does not match SHA-256(0x00 ‖ payload) (content changed or torn)"
        case .seqMismatch(let expected, let found):
            return "expected seq \(expected), found seq \(found) (entry missing, duplicated or reordered)"
        case .prevHashMismatch(let seq):
            return "seq \(seq): prev_hash is not the previous entry's hash (chain broken)"
        }
    }

    /// A write cut short by a crash produces a short or unverifiable frame. A frame whose own
    /// hash verifies but links wrongly was written whole and is corruption wherever it sits.
    var canBeTornWrite: Bool {
        switch self {
        case .seqMismatch, .prevHashMismatch: return false
        default: return true
        }
    }
}

/// The result of validating the frames of one segment from a chain point to an end offset.
struct SegmentScan {
    /// After the last good frame.
    var end: ChainPoint
    var frames: UInt64 = 0
    var defect: (offset: UInt64, defect: FrameDefect)?

    enum Verification {
        /// Recompute every frame's hash (recovery on open).
        case everyHash
        /// Check structure and links of every frame, recompute only the last frame's hash: the
        /// frames another live process appended are trusted for content (the verifier recomputes
        /// everything), the last one may be a dead writer's torn frame.
        case lastHash
    }

    static func run(
        _ handle: JournalFileHandle, window: ReadWindow, from start: ChainPoint, fileEnd: UInt64,
        verification: Verification
    ) throws(JournalError) -> SegmentScan {
        var scan = SegmentScan(end: start)
        var previous: ChainPoint?
        var lastFrame: (offset: UInt64, header: EntryFrame.Header)?
        while scan.end.offset < fileEnd {
            let offset = scan.end.offset
            let available = fileEnd - offset
            guard available >= UInt64(EntryFrame.headerSize) else {
                scan.defect = (offset, .shortHeader(available: available))
                return scan
            }
            guard let headerBytes = try window.bytes(handle, at: offset, count: EntryFrame.headerSize),
                let header = EntryFrame.header(at: headerBytes.baseAddress!)
            else {
                scan.defect = (offset, .badHeader)
                return scan
            }
            guard available >= UInt64(header.frameCount) else {
                scan.defect = (offset, .shortPayload(expected: header.payloadCount, available: available - 80))
                return scan
            }
            if verification == .everyHash {
                guard try frameHashVerifies(handle, window: window, at: offset, header: header) else {
                    scan.defect = (offset, .hashMismatch(seq: header.seq))
                    return scan
                }
            }
            guard header.seq == scan.end.nextSeq else {
                scan.defect = (offset, .seqMismatch(expected: scan.end.nextSeq, found: header.seq))
                return scan
            }
            if let expected = scan.end.prevHash, expected != header.prevHash {
                scan.defect = (offset, .prevHashMismatch(seq: header.seq))
                return scan
            }
            previous = scan.end
            lastFrame = (offset, header)
            scan.end = ChainPoint(
                nextSeq: header.seq + 1, prevHash: header.hash, offset: offset + UInt64(header.frameCount))
            scan.frames += 1
        }
        if verification == .lastHash, let lastFrame, let previous,
            try !frameHashVerifies(handle, window: window, at: lastFrame.offset, header: lastFrame.header)
        {
            scan.end = previous
            scan.frames -= 1
            scan.defect = (lastFrame.offset, .hashMismatch(seq: lastFrame.header.seq))
        }
        return scan
    }

    static func frameHashVerifies(
        _ handle: JournalFileHandle, window: ReadWindow, at offset: UInt64, header: EntryFrame.Header
    ) throws(JournalError) -> Bool {
        guard let payload = try window.bytes(handle, at: offset + 80, count: header.payloadCount) else { return false }
        return ChainHash.leafHash(of: payload) == header.hash
    }

    /// The offset of the first whole, self-verifying frame after `offset`, if any: the test that
    /// tells a torn tail (nothing valid follows) from corruption in the middle (something does).
    static func nextValidFrame(
        _ handle: JournalFileHandle, window: ReadWindow, after offset: UInt64, fileEnd: UInt64
    ) throws(JournalError) -> UInt64? {
        let firstMagicByte = UInt8(truncatingIfNeeded: EntryFrame.magic)
        var position = offset + 1
        while position + UInt64(EntryFrame.headerSize) <= fileEnd {
            let chunk = Int(min(UInt64(1 << 16), fileEnd - position))
            guard let bytes = try window.bytes(handle, at: position, count: chunk) else { return nil }
            var index = 0
            var candidates: [UInt64] = []
            while index < chunk, let found = memchr(bytes.baseAddress! + index, Int32(firstMagicByte), chunk - index) {
                let at = bytes.baseAddress!.distance(to: UnsafeRawPointer(found))
                candidates.append(position + UInt64(at))
                index = at + 1
            }
            for candidate in candidates where candidate + UInt64(EntryFrame.headerSize) <= fileEnd {
                guard let headerBytes = try window.bytes(handle, at: candidate, count: EntryFrame.headerSize),
                    let header = EntryFrame.header(at: headerBytes.baseAddress!),
                    candidate + UInt64(header.frameCount) <= fileEnd
                else { continue }
                if try frameHashVerifies(handle, window: window, at: candidate, header: header) {
                    return candidate
                }
            }
            position += UInt64(chunk)
        }
        return nil
    }
}
