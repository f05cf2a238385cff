import CCurl

#if canImport(Glibc)
    import Glibc
#endif

/// A raw TCP or TLS byte stream through libcurl (`CURLOPT_CONNECT_ONLY` + `curl_easy_send`), so
/// protocols such as syslog over TLS (RFC 5425) share the HTTP client's TLS stack, options and
/// verification rules instead of bringing a second one.
///
/// Not for concurrent use. Sending is write-only: the peer is expected to say nothing, and
/// anything it does say is read and discarded while checking that the connection is alive.
public final class StreamConnection {
    public let host: String
    public let port: Int
    public let useTLS: Bool
    public let options: HTTPClientOptions
    private var easy: CurlEasy?

    public init(host: String, port: Int, useTLS: Bool, options: HTTPClientOptions) {
        self.host = host
        self.port = port
        self.useTLS = useTLS
        self.options = options
    }

    private var display: String { "\(useTLS ? "tls" : "tcp")://\(host):\(port)" }

    public var isConnected: Bool { easy != nil }

    /// Connects (and completes the TLS handshake) unless already connected and still alive.
    public func connectIfNeeded() throws(HTTPClientError) {
        if easy != nil {
            if peerStillOpen() { return }
            close()
        }
        let easy = try CurlEasy()
        try easy.reset(options)
        // CONNECT_ONLY stops after the connection (and TLS handshake) is up: an http(s) URL is
        // only the way to name "plain TCP" or "TLS" to libcurl; no HTTP is ever spoken.
        let bracketed = host.contains(":") ? "[\(host)]" : host
        try easy.set(CURLOPT_URL, "\(useTLS ? "https" : "http")://\(bracketed):\(port)/")
        try easy.set(CURLOPT_CONNECT_ONLY, 1)
        let code = curl_easy_perform(easy.handle)
        guard code == CURLE_OK else {
            let kind = CurlRuntime.kind(of: code)
            throw HTTPClientError(kind, "\(display): \(kind.rawValue): \(easy.failureText(code))")
        }
        self.easy = easy
    }

    /// Sends every byte, waiting for the socket when libcurl says it would block, within the
    /// total timeout. On failure the connection is closed (the next send reconnects).
    public func send(_ bytes: [UInt8]) throws(HTTPClientError) {
        try connectIfNeeded()
        guard let easy else { throw HTTPClientError(.other, "\(display): not connected") }
        let deadline = StreamConnection.nowMilliseconds() + options.totalTimeoutMilliseconds
        var offset = 0
        var failure: HTTPClientError?
        bytes.withUnsafeBytes { buffer in
            while offset < buffer.count {
                var sent = 0
                let code = curl_easy_send(easy.handle, buffer.baseAddress! + offset, buffer.count - offset, &sent)
                if code == CURLE_OK {
                    offset += sent
                    continue
                }
                if code == CURLE_AGAIN {
                    let remaining = deadline - StreamConnection.nowMilliseconds()
                    guard remaining > 0, wait(easy, events: Int16(POLLOUT), milliseconds: remaining) else {
                        failure = HTTPClientError(.timeout, "\(display): timeout: sending did not finish within \(options.totalTimeoutMilliseconds) ms")
                        return
                    }
                    continue
                }
                let kind = CurlRuntime.kind(of: code)
                failure = HTTPClientError(kind == .other ? .connectionReset : kind, "\(display): \(kind.rawValue): \(easy.failureText(code))")
                return
            }
        }
        if let failure {
            close()
            throw failure
        }
    }

    public func close() {
        easy = nil  // curl_easy_cleanup closes the socket (and sends the TLS close_notify)
    }

    /// False when the peer closed or reset the connection (a readable socket that yields EOF or
    /// an error). Data the peer sent is discarded.
    private func peerStillOpen() -> Bool {
        guard let easy else { return false }
        var buffer = [UInt8](repeating: 0, count: 4096)
        while wait(easy, events: Int16(POLLIN), milliseconds: 0) {
            var received = 0
            let code = buffer.withUnsafeMutableBytes { curl_easy_recv(easy.handle, $0.baseAddress, $0.count, &received) }
            if code == CURLE_AGAIN { return true }
            if code != CURLE_OK || received == 0 { return false }
        }
        return true
    }

    private func wait(_ easy: CurlEasy, events: Int16, milliseconds: Int) -> Bool {
        guard let socket = easy.activeSocket() else { return false }
        var descriptor = pollfd(fd: socket, events: events, revents: 0)
        return poll(&descriptor, 1, Int32(min(milliseconds, Int(Int32.max)))) > 0
    }

    static func nowMilliseconds() -> Int {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Int(now.tv_sec) * 1000 + Int(now.tv_nsec) / 1_000_000
    }
}
