import Foundation

/// Reads standard input line by line in large chunks (the `--stdin` fast path).
enum StandardInputLines {
    static func forEach(_ body: ([UInt8]) throws -> Void) throws {
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let count = read(0, &chunk, chunk.count)
            if count < 0 {
                if errno == EINTR { continue }
                throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
            }
            if count == 0 { break }
            buffer.append(contentsOf: chunk[0..<count])
            var start = 0
            while let newline = buffer[start...].firstIndex(of: 0x0A) {
                try body(Array(buffer[start..<newline]))
                start = newline + 1
            }
            buffer.removeFirst(start)
        }
        if !buffer.isEmpty { try body(buffer) }
    }
}
