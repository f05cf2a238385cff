import HTTPClient
import PluginABI

/// The plugin's own bounded retries for throttling and transient failures. The ABI leaves retry
/// policy to the host for sink writes, but a secret backend's calls are synchronous requests a
/// caller is waiting on (start-up, a field decryption), and every KMS SDK retries throttling
/// itself; after `maxAttempts` the call returns LAFORGE_RETRY with the last reason.
struct RetryPolicy {
    var maxAttempts: Int
    var baseMilliseconds: Int
    var capMilliseconds: Int

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
                try backoff(operation, attempt: attempt, reason: reason, retryAfter: nil)
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
            try backoff(operation, attempt: attempt, reason: reason, retryAfter: retryAfter)
        }
    }

    /// Waits before the next attempt, or throws the transient failure when attempts are used up.
    private func backoff(_ operation: String, attempt: Int, reason: String, retryAfter: String?) throws(KMSError) {
        guard attempt < policy.maxAttempts else {
            throw KMSError(.transient, "\(reason) (gave up after \(attempt) attempt\(attempt == 1 ? "" : "s"))")
        }
        let wait = policy.delay(afterAttempt: attempt, retryAfter: retryAfter)
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
