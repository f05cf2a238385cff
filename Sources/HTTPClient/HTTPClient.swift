import CCurl

/// The project's HTTP client: a small layer over one libcurl easy handle.
///
/// One client keeps its connections alive between requests (keep-alive reuse), verifies TLS by
/// default with TLS 1.2 as the minimum, and bounds every request by a connect and a total
/// timeout. A transport failure is a classified `HTTPClientError`; any HTTP status is a
/// response. Header values and credentials never appear in an error message.
///
/// Not for concurrent use: one request at a time per client (each plugin instance, or each
/// thread, owns its own client).
public final class HTTPClient {
    public let options: HTTPClientOptions
    private let easy: CurlEasy

    public init(options: HTTPClientOptions = HTTPClientOptions()) throws(HTTPClientError) {
        self.options = options
        easy = try CurlEasy()
    }

    public func send(_ request: HTTPRequest) throws(HTTPClientError) -> HTTPResponse {
        let display = "\(request.method) \(HTTPRequest.displayURL(request.url))"
        for header in request.headers {
            // A CR or LF would let a value smuggle another header into the request.
            guard !header.name.isEmpty, !header.name.contains(where: { $0 == ":" || $0.isNewline || $0 == " " }),
                !header.value.contains(where: \.isNewline)
            else {
                throw HTTPClientError(.invalidRequest, "\(display): header \(header.name.isEmpty ? "(empty name)" : header.name) is malformed")
            }
        }
        try easy.reset(options)
        try easy.set(CURLOPT_URL, request.url)
        switch request.method {
        case "GET": try easy.set(CURLOPT_HTTPGET, 1)
        case "POST": try easy.set(CURLOPT_POST, 1)
        case "HEAD": try easy.set(CURLOPT_NOBODY, 1)
        default: try easy.set(CURLOPT_CUSTOMREQUEST, request.method)
        }
        if let sigV4 = request.awsSigV4 { try easy.set(CURLOPT_AWS_SIGV4, sigV4) }
        if let credentials = request.credentials {
            try easy.set(CURLOPT_USERNAME, credentials.user)
            try easy.set(CURLOPT_PASSWORD, credentials.password)
        }

        var list: UnsafeMutablePointer<curl_slist>?
        defer { curl_slist_free_all(list) }
        var lines = request.headers.map { "\($0.name): \($0.value)" }
        // No `Expect: 100-continue` round trip for large bodies. Not with SigV4: Debian's curl
        // 7.88 signs an empty header it then does not send, which breaks the signature.
        if request.awsSigV4 == nil, !request.headers.contains(where: { $0.name.lowercased() == "expect" }) {
            lines.append("Expect:")
        }
        for line in lines {
            guard let appended = line.withCString({ curl_slist_append(list, $0) }) else {
                throw HTTPClientError(.other, "\(display): out of memory building headers")
            }
            list = appended
        }
        try easy.set(CURLOPT_HTTPHEADER, list: list)

        let collector = ResponseCollector(limit: options.maxResponseBytes)
        let context = Unmanaged.passUnretained(collector).toOpaque()
        try easy.set(CURLOPT_WRITEFUNCTION, callback: { data, size, count, context in
            let collector = Unmanaged<ResponseCollector>.fromOpaque(context!).takeUnretainedValue()
            guard let data else { return 0 }
            return collector.appendBody(UnsafeRawPointer(data), size * count)
        })
        try easy.set(CURLOPT_WRITEDATA, pointer: context)
        try easy.set(CURLOPT_HEADERFUNCTION, callback: { data, size, count, context in
            let collector = Unmanaged<ResponseCollector>.fromOpaque(context!).takeUnretainedValue()
            if let data { collector.appendHeaderLine(UnsafeRawPointer(data), size * count) }
            return size * count
        })
        try easy.set(CURLOPT_HEADERDATA, pointer: context)

        if request.method != "GET" && request.method != "HEAD" {
            try easy.set(CURLOPT_POSTFIELDSIZE_LARGE, offset: request.body.count)
            if request.body.isEmpty {
                // An empty body: a NULL POSTFIELDS would make libcurl read the body from stdin.
                try easy.set(CURLOPT_COPYPOSTFIELDS, "")
            }
        }
        let code: CURLcode = request.body.withUnsafeBytes { body in
            if let base = body.baseAddress, body.count > 0, request.method != "GET" && request.method != "HEAD" {
                // POSTFIELDS is not copied: the body stays borrowed for the transfer, which
                // happens inside this closure.
                let set = laforge_curl_setopt_pointer(easy.handle, CURLOPT_POSTFIELDS, UnsafeMutableRawPointer(mutating: base))
                guard set == CURLE_OK else { return set }
            }
            return curl_easy_perform(easy.handle)
        }
        withExtendedLifetime(collector) {}
        guard code == CURLE_OK else {
            if code == CURLE_WRITE_ERROR && collector.overflowed {
                throw HTTPClientError(.responseTooLarge, "\(display): response body larger than \(options.maxResponseBytes) bytes")
            }
            let kind = CurlRuntime.kind(of: code)
            throw HTTPClientError(kind, "\(display): \(kind.rawValue): \(easy.failureText(code))")
        }
        return HTTPResponse(status: easy.info(CURLINFO_RESPONSE_CODE), headers: collector.headers, body: collector.body)
    }
}

/// Receives libcurl's callbacks for one transfer.
private final class ResponseCollector {
    var body: [UInt8] = []
    var headers: [HTTPHeader] = []
    var overflowed = false
    private let limit: Int

    init(limit: Int) { self.limit = limit }

    func appendBody(_ data: UnsafeRawPointer, _ count: Int) -> Int {
        guard body.count + count <= limit else {
            overflowed = true
            return 0  // a short count makes libcurl stop with CURLE_WRITE_ERROR
        }
        body.append(contentsOf: UnsafeRawBufferPointer(start: data, count: count))
        return count
    }

    func appendHeaderLine(_ data: UnsafeRawPointer, _ count: Int) {
        let line = String(decoding: UnsafeRawBufferPointer(start: data, count: count), as: UTF8.self)
        if line.hasPrefix("HTTP/") {
            // A new status line (after a 100 Continue or a redirect): only the final response's
            // headers count.
            headers.removeAll()
            return
        }
        guard let colon = line.firstIndex(of: ":") else { return }
        let name = String(line[..<colon])
        let value = line[line.index(after: colon)...].trimmingWhitespace()
        headers.append(HTTPHeader(name, value))
    }
}

extension Substring {
    func trimmingWhitespace() -> String {
        var text = self
        while let first = text.first, first.isWhitespace { text.removeFirst() }
        while let last = text.last, last.isWhitespace { text.removeLast() }
        return String(text)
    }
}
