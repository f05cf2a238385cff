import HTTPClient
import Synchronization

/// HTTP to the identity provider through the project's libcurl client. HTTPClient serves one
/// request at a time, so concurrent validations borrow clients from a small pool (each keeps its
/// connection alive) instead of queueing behind one.
final class ProviderClient: Sendable {
    private let options: HTTPClientOptions
    private let idle = Mutex<[HTTPClientBox]>([])

    init(caFile: String?, timeoutMilliseconds: Int) {
        options = HTTPClientOptions(
            tls: TLSOptions(caFile: caFile), connectTimeoutMilliseconds: min(5_000, timeoutMilliseconds),
            totalTimeoutMilliseconds: timeoutMilliseconds, userAgent: "laforge-oidc-connector",
            maxResponseBytes: 1 << 20)
    }

    /// Sends a request; a transport failure becomes RETRY (the provider is unreachable), with
    /// the URL but never its query or a header value in the message.
    func send(_ request: HTTPRequest, purpose: String) throws(ConnectorError) -> HTTPResponse {
        let box: HTTPClientBox
        if let reused = idle.withLock({ $0.popLast() }) {
            box = reused
        } else {
            do { box = HTTPClientBox(try HTTPClient(options: options)) } catch {
                throw ConnectorError(Status.internalError, "cannot create an HTTP client: \(error)")
            }
        }
        do {
            let response = try box.client.send(request)
            idle.withLock { if $0.count < 8 { $0.append(box) } }
            return response
        } catch {
            throw ConnectorError(Status.retry, "\(purpose): \(HTTPRequest.displayURL(request.url)) unreachable: \(error)")
        }
    }

    /// GETs a JSON object (discovery, JWKS, userinfo); non-2xx statuses are the caller's to judge.
    func getJSON(_ url: String, headers: [HTTPHeader] = [], purpose: String) throws(ConnectorError) -> (status: Int, json: JSONValue?) {
        let response = try send(HTTPRequest(method: "GET", url: url, headers: [HTTPHeader("Accept", "application/json")] + headers), purpose: purpose)
        return (response.status, try? JSONReader.parse(response.body))
    }

    /// POSTs an application/x-www-form-urlencoded body (the token and device endpoints).
    func postForm(
        _ url: String, fields: [(String, String)], credentials: HTTPCredentials?, purpose: String
    ) throws(ConnectorError) -> (status: Int, json: JSONValue?) {
        let body = FormEncoding.encode(fields)
        let request = HTTPRequest(
            method: "POST", url: url,
            headers: [HTTPHeader("Content-Type", "application/x-www-form-urlencoded"), HTTPHeader("Accept", "application/json")],
            body: Array(body.utf8), credentials: credentials)
        let response = try send(request, purpose: purpose)
        return (response.status, try? JSONReader.parse(response.body))
    }
}

/// HTTPClient is a non-Sendable class; a box moved between threads under the pool's lock.
final class HTTPClientBox: @unchecked Sendable {
    let client: HTTPClient
    init(_ client: HTTPClient) { self.client = client }
}
