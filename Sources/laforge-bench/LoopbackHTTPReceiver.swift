import Foundation

/// A minimal HTTP/1.1 receiver on 127.0.0.1 for the webhook benchmark: keep-alive, one thread
/// per connection, reads `Content-Length` bodies, counts their lines and answers 200. It does
/// only what a receiver must, so the benchmark measures the sender, not Python or a SIEM.
/// With `saveBodies`, each body is kept (in arrival order) so curl can replay the same batches.
final class LoopbackHTTPReceiver: @unchecked Sendable {
    // @unchecked: the counters and bodies are only touched under `lock`.
    let port: Int
    private let listener: Int32
    private let lock = NSLock()
    private var lines = 0
    private var requests = 0
    private var bodies: [Data] = []
    var saveBodies = false

    init() {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var yes: Int32 = 1
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(listener, 64) == 0 else { fail("loopback receiver: cannot listen") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }
        port = Int(UInt16(bigEndian: address.sin_port))
        self.listener = listener
        let thread = Thread { [self] in acceptLoop() }
        thread.start()
    }

    /// (lines received, requests answered) so far.
    var counts: (lines: Int, requests: Int) { lock.withLock { (lines, requests) } }

    func takeBodies() -> [Data] { lock.withLock { defer { bodies = [] }; return bodies } }

    func reset() { lock.withLock { lines = 0; requests = 0; bodies = [] } }

    private func acceptLoop() {
        while true {
            let connection = accept(listener, nil, nil)
            guard connection >= 0 else { continue }
            var noDelay: Int32 = 1
            setsockopt(connection, Int32(IPPROTO_TCP), TCP_NODELAY, &noDelay, socklen_t(MemoryLayout<Int32>.size))
            let thread = Thread { [self] in serve(connection) }
            thread.start()
        }
    }

    private func serve(_ connection: Int32) {
        defer { close(connection) }
        var buffer = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        let answer = Array("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n".utf8)
        let separator = Array("\r\n\r\n".utf8)
        while true {
            // Head: up to the blank line.
            var headEnd: Int?
            var searched = 0
            while headEnd == nil {
                if let found = find(separator, in: buffer, from: searched) { headEnd = found; break }
                searched = max(0, buffer.count - separator.count)
                let count = read(connection, &chunk, chunk.count)
                if count <= 0 { return }
                buffer.append(contentsOf: chunk[0..<count])
            }
            let head = String(decoding: buffer[0..<headEnd!], as: UTF8.self).lowercased()
            var contentLength = 0
            for line in head.split(separator: "\r\n") where line.hasPrefix("content-length:") {
                contentLength = Int(line.dropFirst(15).trimmingCharacters(in: .whitespaces)) ?? 0
            }
            let bodyStart = headEnd! + 4
            while buffer.count < bodyStart + contentLength {
                let count = read(connection, &chunk, chunk.count)
                if count <= 0 { return }
                buffer.append(contentsOf: chunk[0..<count])
            }
            let newlines = buffer.withUnsafeBufferPointer { bytes in
                var count = 0
                for index in bodyStart..<(bodyStart + contentLength) where bytes[index] == 0x0A { count += 1 }
                return count
            }
            lock.withLock {
                lines += newlines
                requests += 1
                if saveBodies { bodies.append(Data(buffer[bodyStart..<(bodyStart + contentLength)])) }
            }
            buffer.removeSubrange(0..<(bodyStart + contentLength))
            var sent = 0
            while sent < answer.count {
                let count = answer[sent...].withUnsafeBytes { write(connection, $0.baseAddress, $0.count) }
                if count <= 0 { return }
                sent += count
            }
        }
    }

    private func find(_ pattern: [UInt8], in bytes: [UInt8], from start: Int) -> Int? {
        guard bytes.count >= pattern.count, start <= bytes.count - pattern.count else { return nil }
        return bytes.withUnsafeBufferPointer { buffer in
            for index in start...(buffer.count - pattern.count) where buffer[index] == pattern[0] {
                if (1..<pattern.count).allSatisfy({ buffer[index + $0] == pattern[$0] }) { return index }
            }
            return nil
        }
    }
}
