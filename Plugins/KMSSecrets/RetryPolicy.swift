import HTTPClient
import PluginABI

/// The plugin's own bounded retries for throttling and transient failures, as the header's rule 7
/// allows a call whose caller is waiting for the answer (start-up, a field decryption; every KMS
/// SDK retries throttling itself): at most `maxAttempts`, and no wait that would end past
/// `deadlineMilliseconds` after the call began; then the call returns LAFORGE_RETRY with the
/// last reason and the host decides what happens next.
struct RetryPolicy {
    var maxAttempts: Int
    var baseMilliseconds: Int
    var capMilliseconds: Int
    var deadlineMilliseconds: Int

    /// Full-jitter backoff before attempt `attempt + 1` (attempt counts from 1), or the server's
    /// Retry-After when it asks for longer (never beyond the cap).
    func delay(afterAttempt attempt: Int, retryAfter: String?) -> Int {
        let exponential = min(capMilliseconds, baseMilliseconds << min(attempt - 1, 20))
        var wait = Jitter.milliseconds(upTo: exponential + 1)
        if let retryAfter, let seconds = Int(retryAfter.trimmingSpaces()) {
            wait = max(wait, min(capMilliseconds, seconds * 1000))
        }
        return wait
    }
}

/// What a provider makes of one HTTP response.
enum ResponseVerdict {
    case success
    /// Throttled or unavailable: try again after a backoff.
    case retry(String)
    /// The credentials or token expired: refresh them and try again at once (once).
    case refreshCredentials(String)
    case fail(KMSError)
}

/// Sends a provider request with the retry policy. The request is rebuilt for each attempt so it
/// is signed again with fresh credentials (SigV4 signatures carry a timestamp).
final class RetryingTransport {
    let client: HTTPClient
    let policy: RetryPolicy
    let host: HostServices

    init(client: HTTPClient, policy: RetryPolicy, host: HostServices) {
        self.client = client
        self.policy = policy
        self.host = host
    }

    func send(
        _ operation: String,
        build: () throws(KMSError) -> HTTPRequest,
        judge: (HTTPResponse) -> ResponseVerdict,
        refresh: () -> Void = {}
    ) throws(KMSError) -> HTTPResponse {
        var attempt = 0
        var refreshed = false
        let deadline = Clock.monotonicMilliseconds() + policy.deadlineMilliseconds
        while true {
            attempt += 1
            let request = try build()
            let reason: String
            var retryAfter: String?
            let response: HTTPResponse
            do throws(HTTPClientError) {
                response = try client.send(request)
            } catch {
                // A TLS or URL problem will not heal by waiting.
                guard error.isTransient else { throw KMSError(.refused, error.message) }
                reason = error.message
                try backoff(operation, attempt: attempt, reason: reason, retryAfter: nil, deadline: deadline)
                continue
            }
            switch judge(response) {
            case .success:
                return response
            case .fail(let error):
                throw error
            case .refreshCredentials(let why):
                guard !refreshed else { throw KMSError(.accessDenied, why) }
                refreshed = true
                refresh()
                attempt -= 1  // a refresh is not a throttling attempt
                continue
            case .retry(let why):
                reason = why
                retryAfter = response.header("Retry-After")
            }
            try backoff(operation, attempt: attempt, reason: reason, retryAfter: retryAfter, deadline: deadline)
        }
    }

    /// Waits before the next attempt, or throws the transient failure when the attempts are used
    /// up or the wait would end past the call's deadline.
    private func backoff(
        _ operation: String, attempt: Int, reason: String, retryAfter: String?, deadline: Int
    ) throws(KMSError) {
        let attempts = "\(attempt) attempt\(attempt == 1 ? "" : "s")"
        guard attempt < policy.maxAttempts else {
            throw KMSError(.transient, "\(reason) (gave up after \(attempts))")
        }
        let wait = policy.delay(afterAttempt: attempt, retryAfter: retryAfter)
        guard Clock.monotonicMilliseconds() + wait <= deadline else {
            throw KMSError(
                .transient,
                "\(reason) (gave up after \(attempts): the next try, in \(wait) ms, would pass retry_deadline_ms \(policy.deadlineMilliseconds))")
        }
        host.log(LAFORGE_LOG_WARNING, "\(operation): \(reason); retrying in \(wait) ms (attempt \(attempt + 1) of \(policy.maxAttempts))")
        Clock.sleep(milliseconds: wait)
    }
}

extension String {
    func trimmingSpaces() -> String {
        var text = Substring(self)
        while let first = text.first, first.isWhitespace { text.removeFirst() }
        while let last = text.last, last.isWhitespace { text.removeLast() }
        return String(text)
    }
}
