import CSodium
import HTTPClient
import PluginABI

/// Sends request bodies to the receiver over the project's HTTP client: the configured headers,
/// Standard Webhooks signatures, optional gzip, and the `Retry-After` gate (after a 429 or 503
/// that names a wait, no request goes out before it has passed; the host's retries in between
/// are answered RETRY at once, without touching the receiver).
final class HTTPTransport {
    enum Exchange {
        case response(HTTPResponse)
        /// No usable answer (transport failure or the Retry-After wait): always RETRY.
        case failed(String)
    }

    let baseURL: String
    private let client: HTTPClient
    private let headers: [HTTPHeader]
    private let credentials: HTTPCredentials?
    private let signer: WebhookSigner
    private let gzip: Bool
    private let host: HostServices
    private var notBeforeMilliseconds: Int64 = 0

    static let bytesCounter = "laforge_siem_request_bytes_total"
    static let requestsCounter = "laforge_siem_requests_total"

    init(config: SIEMWebhookConfig, baseURL: String, credentials: HTTPCredentials?, host: HostServices) throws(SIEMError) {
        self.baseURL = baseURL
        self.headers = config.headers
        self.credentials = credentials
        self.signer = WebhookSigner(hmacSecrets: config.hmacSecrets, ed25519Keys: config.ed25519Keys)
        self.gzip = config.gzip
        self.host = host
        let options = HTTPClientOptions(
            tls: config.tls, connectTimeoutMilliseconds: config.connectTimeoutMilliseconds,
            totalTimeoutMilliseconds: config.timeoutMilliseconds, userAgent: "laforge-siem-webhook/1.0")
        do {
            client = try HTTPClient(options: options)
        } catch {
            throw SIEMError(Status.internalError, "cannot set up the HTTP client: \(error.message)")
        }
    }

    /// `POST <url>` of `body`. `id` is the request's `webhook-id`; the signature covers `body`
    /// as given (before gzip, which is only a Content-Encoding).
    func post(_ url: String, body: [UInt8], contentType: String, id: String, extraHeaders: [HTTPHeader] = []) -> Exchange {
        let now = AuditTime.nowMilliseconds()
        if now < notBeforeMilliseconds {
            return .failed("the receiver asked (Retry-After) for no request before \(notBeforeMilliseconds - now) ms from now")
        }
        var requestHeaders = headers + extraHeaders
        requestHeaders.append(HTTPHeader("Content-Type", contentType))
        if signer.isEnabled {
            requestHeaders += signer.headers(id: id, timestamp: AuditTime.nowSeconds(), body: body)
        }
        var payload = body
        if gzip {
            guard let compressed = Gzip.compress(body) else { return .failed("gzip compression of a \(body.count)-byte body failed") }
            payload = compressed
            requestHeaders.append(HTTPHeader("Content-Encoding", "gzip"))
        }
        let request = HTTPRequest(method: "POST", url: url, headers: requestHeaders, body: payload, credentials: credentials)
        host.counterAdd(Self.requestsCounter, 1)
        host.counterAdd(Self.bytesCounter, Double(payload.count))
        do {
            let response = try client.send(request)
            if response.status == 429 || response.status == 503, let wait = ResultMapping.retryAfterSeconds(response) {
                notBeforeMilliseconds = AuditTime.nowMilliseconds() + Int64(wait) * 1000
            }
            return .response(response)
        } catch {
            return .failed(error.message)
        }
    }

    /// How requests are named in messages: method and URL without credentials or query.
    func describe(_ url: String) -> String { "POST \(HTTPRequest.displayURL(url))" }

    /// `webhook-id` of a request: the record's idempotency key (its entry hash) for one record;
    /// for several, `batch-` and the SHA-256 of their kinds, seqs and hashes, so identical content re-sent after a
    /// RETRY carries the same id and different content never does.
    static func requestID(_ records: ArraySlice<SinkRecord>) -> String {
        if records.count == 1, let only = records.first { return only.idempotencyKey }
        var state = crypto_hash_sha256_state()
        crypto_hash_sha256_init(&state)
        for record in records {
            // kind, seq and hash identify a record; 8-byte seq so no two records collide.
            var seq = record.seq.bigEndian
            var kind: UInt8 = record.kind == .entry ? 1 : 2
            crypto_hash_sha256_update(&state, &kind, 1)
            _ = withUnsafeBytes(of: &seq) { crypto_hash_sha256_update(&state, $0.baseAddress!.assumingMemoryBound(to: UInt8.self), 8) }
            crypto_hash_sha256_update(&state, record.hash, UInt64(record.hash.count))
        }
        var digest = [UInt8](repeating: 0, count: 32)
        crypto_hash_sha256_final(&state, &digest)
        return "batch-" + Hex.encode(digest)
    }
}
