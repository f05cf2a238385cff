import CCurl

/// One libcurl easy handle and the typed option setters over the C shim. The handle keeps its
/// connection cache across `curl_easy_reset`, which is what gives a client keep-alive reuse.
final class CurlEasy {
    let handle: UnsafeMutableRawPointer
    /// CURLOPT_ERRORBUFFER: libcurl's detailed message for the last failure.
    private let errorBuffer: UnsafeMutablePointer<CChar>

    init() throws(HTTPClientError) {
        if let failure = CurlRuntime.ensureInitialized() { throw failure }
        guard let handle = curl_easy_init() else { throw HTTPClientError(.other, "curl_easy_init failed") }
        self.handle = handle
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
    }

    deinit {
        curl_easy_cleanup(handle)
        errorBuffer.deallocate()
    }

    /// Clears every option (keeping live connections and TLS sessions) and sets the ones every
    /// transfer of this project needs.
    func reset(_ options: HTTPClientOptions) throws(HTTPClientError) {
        curl_easy_reset(handle)
        errorBuffer[0] = 0
        try set(CURLOPT_ERRORBUFFER, pointer: UnsafeMutableRawPointer(errorBuffer))
        // Threads: no SIGALRM-based DNS timeouts (they are unsafe in a multi-threaded host).
        try set(CURLOPT_NOSIGNAL, 1)
        try set(CURLOPT_CONNECTTIMEOUT_MS, options.connectTimeoutMilliseconds)
        try set(CURLOPT_TIMEOUT_MS, options.totalTimeoutMilliseconds)
        try set(CURLOPT_TCP_KEEPALIVE, 1)
        try set(CURLOPT_PROTOCOLS_STR, "http,https")
        try set(CURLOPT_SSLVERSION, Int(CURL_SSLVERSION_TLSv1_2))
        try set(CURLOPT_SSL_VERIFYPEER, options.tls.verifyPeer ? 1 : 0)
        try set(CURLOPT_SSL_VERIFYHOST, options.tls.verifyPeer ? 2 : 0)
        if let caFile = options.tls.caFile { try set(CURLOPT_CAINFO, caFile) }
        if let certificate = options.tls.clientCertificate { try set(CURLOPT_SSLCERT, certificate) }
        if let key = options.tls.clientKey { try set(CURLOPT_SSLKEY, key) }
        if let pin = options.tls.pinnedPublicKey { try set(CURLOPT_PINNEDPUBLICKEY, pin) }
        try set(CURLOPT_USERAGENT, options.userAgent)
        if let socket = options.unixSocketPath { try set(CURLOPT_UNIX_SOCKET_PATH, socket) }
    }

    func set(_ option: CURLoption, _ value: Int) throws(HTTPClientError) {
        try check(laforge_curl_setopt_long(handle, option, value), option)
    }

    func set(_ option: CURLoption, _ value: String) throws(HTTPClientError) {
        // libcurl copies string options (since 7.17), so the temporary C string may go away.
        try check(value.withCString { laforge_curl_setopt_string(handle, option, $0) }, option)
    }

    func set(_ option: CURLoption, pointer: UnsafeMutableRawPointer?) throws(HTTPClientError) {
        try check(laforge_curl_setopt_pointer(handle, option, pointer), option)
    }

    func set(_ option: CURLoption, offset: Int) throws(HTTPClientError) {
        try check(laforge_curl_setopt_off_t(handle, option, curl_off_t(offset)), option)
    }

    func set(_ option: CURLoption, list: UnsafeMutablePointer<curl_slist>?) throws(HTTPClientError) {
        try check(laforge_curl_setopt_slist(handle, option, list), option)
    }

    func set(_ option: CURLoption, callback: laforge_curl_data_callback) throws(HTTPClientError) {
        try check(laforge_curl_setopt_callback(handle, option, callback), option)
    }

    func info(_ item: CURLINFO) -> Int {
        var value = 0
        _ = laforge_curl_getinfo_long(handle, item, &value)
        return value
    }

    func activeSocket() -> Int32? {
        var socket: curl_socket_t = -1
        guard laforge_curl_getinfo_socket(handle, CURLINFO_ACTIVESOCKET, &socket) == CURLE_OK, socket >= 0 else {
            return nil
        }
        return socket
    }

    /// libcurl's detailed message for the last failed transfer, else the code's generic text.
    func failureText(_ code: CURLcode) -> String {
        let detail = String(cString: errorBuffer)
        return detail.isEmpty ? CurlRuntime.describe(code) : detail
    }

    private func check(_ code: CURLcode, _ option: CURLoption) throws(HTTPClientError) {
        guard code == CURLE_OK else {
            throw HTTPClientError(
                CurlRuntime.kind(of: code) == .other ? .invalidRequest : CurlRuntime.kind(of: code),
                "libcurl refused option \(option.rawValue): \(CurlRuntime.describe(code))")
        }
    }
}
