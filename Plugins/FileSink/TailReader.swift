#if canImport(Glibc)
    import Glibc
#endif

/// Reads a FileSink file from its end, a chunk at a time: where its last complete line ends,
/// and its complete lines newest first.
struct TailReader {
    let fd: Int32
    let path: String
    let size: UInt64
    private static let chunkSize: UInt64 = 64 * 1024

    private func read(from offset: UInt64, count: Int) throws(FileSinkError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let result = bytes.withUnsafeMutableBytes { buffer in
                pread(fd, buffer.baseAddress! + done, count - done, off_t(offset + UInt64(done)))
            }
            if result < 0 {
                if errno == EINTR { continue }
                throw SystemCall.failure("read", path, errno: errno, status: Status.retry)
            }
            if result == 0 { break }  // the file shrank under us; use what is there
            done += result
        }
        return Array(bytes[..<done])
    }

    /// The offset just past the last newline (0 when there is none).
    func endOfLastCompleteLine() throws(FileSinkError) -> UInt64 {
        var end = size
        while end > 0 {
            let start = end > Self.chunkSize ? end - Self.chunkSize : 0
            let chunk = try read(from: start, count: Int(end - start))
            if let newline = chunk.lastIndex(of: UInt8(ascii: "\n")) {
                return start + UInt64(newline) + 1
            }
            end = start
        }
        return 0
    }

    /// Calls `visit` with each complete, non-empty line (without its newline), newest first,
    /// until it returns false. Bytes after the last newline are ignored.
    func forEachLineBackward(_ visit: ([UInt8]) -> Bool) throws(FileSinkError) {
        var end = try endOfLastCompleteLine()
        // The newest line not yet complete, as chunk pieces newest first: it continues in the
        // chunk before. Joined once, so a long line costs linear time.
        var carry: [ArraySlice<UInt8>] = []
        func line(_ head: ArraySlice<UInt8>) -> [UInt8] {
            var bytes = Array(head)
            for piece in carry.reversed() { bytes.append(contentsOf: piece) }
            carry.removeAll()
            return bytes
        }
        // Skip the final newline itself so the first split yields the last line.
        if end > 0 { end -= 1 }
        while end > 0 {
            let start = end > Self.chunkSize ? end - Self.chunkSize : 0
            let chunk = try read(from: start, count: Int(end - start))
            var lineEnd = chunk.count
            while let newline = chunk[..<lineEnd].lastIndex(of: UInt8(ascii: "\n")) {
                let complete = line(chunk[(newline + 1)..<lineEnd])
                lineEnd = newline
                if !complete.isEmpty && !visit(complete) { return }
            }
            carry.append(chunk[..<lineEnd])
            end = start
        }
        let first = line([])
        if !first.isEmpty { _ = visit(first) }
    }
}
