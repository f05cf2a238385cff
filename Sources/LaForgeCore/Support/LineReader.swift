#if canImport(Glibc)
    import Glibc
#endif

/// Reads a file (or a pipe: `audit emit --stdin`) front to back in large blocks and hands out its
/// newline-terminated lines in place, borrowed from the block: no copy per line and no buffer the
/// size of the input (a FileSink file set may be many gigabytes). One reader reuses its block.
package final class LineReader {
    static let blockSize = 4 << 20

    package enum End {
        /// Every line was visited; the file's size in bytes.
        case complete(UInt64)
        /// The visitor returned false.
        case stopped
        /// The file ends in line `number` without its newline (a truncated file or a torn write).
        case unterminatedLine(Int)
        /// The file could not be opened or read.
        case unreadable
    }

    private var block: UnsafeMutableRawPointer
    private var capacity: Int

    /// `blockSize` is the first block's size; it doubles for a line that does not fit.
    package init(blockSize: Int = LineReader.blockSize) {
        capacity = max(blockSize, 1)
        block = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 16)
    }

    deinit { block.deallocate() }

    /// Calls `visit` with each line (without its newline), its number from 1 and the file offset
    /// just past it, until `visit` returns false. The line is valid only during the call.
    package func forEachLine(
        ofFileAt path: String, _ visit: (_ line: UnsafeRawBufferPointer, _ number: Int, _ endOffset: UInt64) -> Bool
    ) -> End {
        guard case .success(let fd) = FileIO.open(path, O_RDONLY) else { return .unreadable }
        defer { close(fd) }
        return forEachLine(of: fd, visit)
    }

    /// `forEachLine(ofFileAt:)` on an open descriptor, read sequentially from where it stands.
    /// With `acceptingUnterminatedLastLine` a last line without its newline is visited too (a
    /// pipe's last line) instead of ending in `.unterminatedLine`. `beforeWaiting` is called
    /// when the next read would wait for input (a pipe whose writer pauses): what was handed out
    /// so far should not sit waiting with it.
    package func forEachLine(
        of fd: Int32, acceptingUnterminatedLastLine: Bool = false, beforeWaiting: () -> Void = {},
        _ visit: (_ line: UnsafeRawBufferPointer, _ number: Int, _ endOffset: UInt64) -> Bool
    ) -> End {
        var fileOffset: UInt64 = 0  // of `block[0]`
        var filled = 0  // bytes of the file in the block
        var lineStart = 0  // first byte of the block not yet handed out
        var scanned = 0  // no newline in lineStart..<scanned
        var lineNumber = 0
        while true {
            // Keep the unfinished line, moved to the front; grow only for a line longer than a block.
            if lineStart > 0 {
                memmove(block, block + lineStart, filled - lineStart)
                fileOffset += UInt64(lineStart)
                filled -= lineStart
                scanned -= lineStart
                lineStart = 0
            } else if filled == capacity {
                let larger = UnsafeMutableRawPointer.allocate(byteCount: capacity * 2, alignment: 16)
                larger.copyMemory(from: block, byteCount: filled)
                block.deallocate()
                block = larger
                capacity *= 2
            }
            var ready = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            if poll(&ready, 1, 0) == 0 { beforeWaiting() }
            let read = Glibc.read(fd, block + filled, capacity - filled)
            if read < 0 {
                if errno == EINTR { continue }
                return .unreadable
            }
            if read == 0 {
                guard filled > 0 else { return .complete(fileOffset) }
                guard acceptingUnterminatedLastLine else { return .unterminatedLine(lineNumber + 1) }
                let line = UnsafeRawBufferPointer(start: block, count: filled)
                return visit(line, lineNumber + 1, fileOffset + UInt64(filled)) ? .complete(fileOffset + UInt64(filled)) : .stopped
            }
            filled += read
            while let newline = memchr(block + scanned, 0x0A, filled - scanned) {
                let end = UnsafeMutableRawPointer(newline) - block
                lineNumber += 1
                let line = UnsafeRawBufferPointer(start: block + lineStart, count: end - lineStart)
                lineStart = end + 1
                scanned = lineStart
                guard visit(line, lineNumber, fileOffset + UInt64(lineStart)) else { return .stopped }
            }
            scanned = filled
        }
    }
}
