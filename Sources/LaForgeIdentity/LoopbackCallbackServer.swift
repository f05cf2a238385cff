import Foundation

/// The loopback redirect of a native app's login (RFC 8252 §7.3): a listener on 127.0.0.1 and
/// an ephemeral port that waits for the provider to send the browser back to `/callback` and
/// returns the query string. Other paths (a browser's favicon request) get 404 and the wait
/// goes on. Only one callback is accepted.
public final class LoopbackCallbackServer {
    private let socketDescriptor: Int32
    public let port: Int
    public var redirectURI: String { "http://127.0.0.1:\(port)/callback" }

    public init(port: Int = 0) throws(IdentityError) {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw IdentityError(.io, "cannot open a loopback socket: \(String(cString: strerror(errno)))") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(descriptor, 4) == 0 else {
            let reason = String(cString: strerror(errno))
            close(descriptor)
            throw IdentityError(.io, "cannot listen on 127.0.0.1:\(port) for the login redirect: \(reason)")
        }
        var actual = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        socketDescriptor = descriptor
        self.port = Int(UInt16(bigEndian: actual.sin_port))
    }

    deinit { close(socketDescriptor) }

    /// Waits up to `timeoutSeconds` for `GET /callback?…` and answers the browser.
    public func waitForCallback(timeoutSeconds: Double) throws(IdentityError) -> String {
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while true {
            let remaining = deadline.timeIntervalSinceNow
            guard remaining > 0 else {
                throw IdentityError(.denied, "no login redirect arrived within \(Int(timeoutSeconds)) s; run `laforge login` again")
            }
            var poller = pollfd(fd: socketDescriptor, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, Int32(min(remaining, 1) * 1000))
            if ready <= 0 { continue }
            let client = accept(socketDescriptor, nil, nil)
            guard client >= 0 else { continue }
            defer { close(client) }
            var timeout = timeval(tv_sec: 5, tv_usec: 0)
            setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            var request: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 4096)
            while request.count < 16 << 10, !request.contains(UInt8(ascii: "\n")) {
                let count = read(client, &chunk, chunk.count)
                if count <= 0 { break }
                request.append(contentsOf: chunk[0..<count])
            }
            let line = String(decoding: request.prefix { $0 != UInt8(ascii: "\r") && $0 != UInt8(ascii: "\n") }, as: UTF8.self)
            let parts = line.split(separator: " ")
            guard parts.count >= 2, parts[0] == "GET", parts[1].hasPrefix("/callback") else {
                respond(client, status: "404 Not Found", body: "Not found")
                continue
            }
            let target = parts[1]
            let query = target.firstIndex(of: "?").map { String(target[target.index(after: $0)...]) } ?? ""
            respond(client, status: "200 OK", body: "LaForge: login received. You may close this window and return to the terminal.")
            return query
        }
    }

    private func respond(_ client: Int32, status: String, body: String) {
        let response = "HTTP/1.1 \(status)\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\nCache-Control: no-store\r\n\r\n\(body)"
        _ = Array(response.utf8).withUnsafeBytes { write(client, $0.baseAddress, $0.count) }
    }
}
