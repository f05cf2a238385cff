import Foundation

/// Why a file could not be read, in the words of `strerror` ("No such file or directory").
struct FileReadFailure: Error {
    var reason: String
}

/// The bytes of the regular file at `path`, refusing directories, devices and FIFOs (a FIFO would
/// block startup) and files over `limit` bytes.
func readRegularFile(atPath path: String, limit: Int) throws(FileReadFailure) -> [UInt8] {
    let descriptor = open(path, O_RDONLY | O_CLOEXEC)
    guard descriptor >= 0 else { throw FileReadFailure(reason: String(cString: strerror(errno))) }
    defer { close(descriptor) }

    var status = stat()
    guard fstat(descriptor, &status) == 0 else { throw FileReadFailure(reason: String(cString: strerror(errno))) }
    guard status.st_mode & S_IFMT == S_IFREG else { throw FileReadFailure(reason: "not a regular file") }
    guard status.st_size <= limit else {
        throw FileReadFailure(reason: "larger than the \(limit / 1024) KiB allowed")
    }

    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 64 * 1024)
    while true {
        let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
        if count < 0 {
            if errno == EINTR { continue }
            throw FileReadFailure(reason: String(cString: strerror(errno)))
        }
        if count == 0 { break }
        bytes += chunk[..<count]
        if bytes.count > limit { throw FileReadFailure(reason: "larger than the \(limit / 1024) KiB allowed") }
    }
    return bytes
}
