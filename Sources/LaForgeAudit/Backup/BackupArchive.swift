import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A POSIX ustar archive (IEEE 1003.1-1988), the backup's container: plain files only, written
/// and read here without a library, and still opened by any `tar -tvf` an operator has at hand.
/// Names are at most 100 bytes (the state directory's are short; longer is an error, never cut).
enum BackupArchive {
    static let blockSize = 512

    /// Writes archives to a file: `add` one file at a time, `finish` writes the end marker and syncs.
    final class Writer {
        private let fd: Int32
        let path: String

        /// Creates `path`; refuses to overwrite an existing file (O_EXCL).
        init(creating path: String) throws(BackupError) {
            self.path = path
            fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            guard fd >= 0 else {
                throw BackupError(.output, "\(path): cannot create the backup file: \(String(cString: strerror(errno)))"
                    + (errno == EEXIST ? " (it exists; a backup never overwrites)" : ""))
            }
        }

        deinit { close(fd) }

        func add(name: String, contents: [UInt8], mode: Int = 0o600) throws(BackupError) {
            var header = [UInt8](repeating: 0, count: blockSize)
            let nameBytes = Array(name.utf8)
            guard nameBytes.count <= 100 else { throw BackupError(.input, "\(name): a name longer than 100 bytes does not fit a ustar header") }
            header.replaceSubrange(0..<nameBytes.count, with: nameBytes)
            func octal(_ value: Int, at offset: Int, width: Int) {
                let text = Array(String(value, radix: 8).utf8)
                let padded = [UInt8](repeating: UInt8(ascii: "0"), count: width - 1 - text.count) + text
                header.replaceSubrange(offset..<offset + width - 1, with: padded)
            }
            octal(mode, at: 100, width: 8)
            octal(0, at: 108, width: 8)
            octal(0, at: 116, width: 8)
            octal(contents.count, at: 124, width: 12)
            octal(Int(time(nil)), at: 136, width: 12)
            header[156] = UInt8(ascii: "0")
            header.replaceSubrange(257..<263, with: Array("ustar\0".utf8))
            header.replaceSubrange(263..<265, with: Array("00".utf8))
            // The checksum is computed with its own field as spaces.
            header.replaceSubrange(148..<156, with: [UInt8](repeating: 0x20, count: 8))
            let sum = header.reduce(0) { $0 + Int($1) }
            octal(sum, at: 148, width: 7)
            header[155] = 0x20
            try write(header)
            try write(contents)
            let padding = (blockSize - contents.count % blockSize) % blockSize
            if padding > 0 { try write([UInt8](repeating: 0, count: padding)) }
        }

        func finish() throws(BackupError) {
            try write([UInt8](repeating: 0, count: blockSize * 2))
            guard fsync(fd) == 0 else { throw BackupError(.output, "\(path): cannot sync: \(String(cString: strerror(errno)))") }
        }

        private func write(_ bytes: [UInt8]) throws(BackupError) {
            var done = 0
            while done < bytes.count {
                let count = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + done, bytes.count - done) }
                if count < 0, errno == EINTR { continue }
                guard count > 0 else { throw BackupError(.output, "\(path): cannot write: \(String(cString: strerror(errno)))") }
                done += count
            }
        }
    }

    /// Every file of an archive, in order, with its mode; anything but plain files is refused.
    static func read(path: String) throws(BackupError) -> [(name: String, mode: Int, contents: [UInt8])] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw BackupError(.input, "\(path): cannot read the backup file (missing or unreadable)")
        }
        let bytes = [UInt8](data)
        var files: [(name: String, mode: Int, contents: [UInt8])] = []
        var offset = 0
        while offset + blockSize <= bytes.count {
            let header = bytes[offset..<offset + blockSize]
            if header.allSatisfy({ $0 == 0 }) { return files }
            func field(_ start: Int, _ width: Int) -> String {
                let slice = header[(offset + start)..<(offset + start + width)]
                return String(decoding: slice.prefix { $0 != 0 }, as: UTF8.self).trimmingCharacters(in: .whitespaces)
            }
            let name = field(0, 100)
            var checked = Array(header)
            checked.replaceSubrange(148..<156, with: [UInt8](repeating: 0x20, count: 8))
            guard let sum = Int(field(148, 8), radix: 8), sum == checked.reduce(0, { $0 + Int($1) }) else {
                throw BackupError(.corrupt, "\(path): the header at byte \(offset) has a wrong checksum (the file is damaged or not a backup)")
            }
            guard header[offset + 156] == UInt8(ascii: "0") || header[offset + 156] == 0 else {
                throw BackupError(.corrupt, "\(path): \(name) at byte \(offset) is not a plain file")
            }
            guard let size = Int(field(124, 12), radix: 8), let mode = Int(field(100, 8), radix: 8) else {
                throw BackupError(.corrupt, "\(path): \(name) at byte \(offset) has an unreadable size or mode")
            }
            let start = offset + blockSize
            guard start + size <= bytes.count else {
                throw BackupError(.corrupt, "\(path): \(name) is cut short (the file ends inside it: an incomplete copy?)")
            }
            files.append((name, mode, Array(bytes[start..<start + size])))
            offset = start + (size + blockSize - 1) / blockSize * blockSize
        }
        throw BackupError(.corrupt, "\(path): no end-of-archive marker (the file is cut short: an incomplete copy?)")
    }
}
