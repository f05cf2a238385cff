import HTTPClient

#if canImport(Glibc)
    import Glibc
#endif

/// What a receiver's answer means for the records of a request (docs/SIEM.md, "Result mapping"):
/// 2xx stored; 408, 429, 5xx, timeouts and connection errors RETRY (honouring `Retry-After`);
/// 401 and 403 ACCESS_DENIED (the credential, not a record, is wrong: the host keeps every
/// record until it is fixed); other 4xx PERMANENT_ERROR with the start of the response body.
enum ResultMapping {
    enum Verdict {
        case stored
        case retry(String)
        case refused(String)
        case permanent(String)
    }

    static func verdict(_ response: HTTPResponse, request: String) -> Verdict {
        let status = response.status
        switch status {
        case 200..<300:
            return .stored
        case 408, 429, 500..<600:
            var message = "HTTP \(status) from \(request)"
            if let wait = retryAfterSeconds(response) { message += " (Retry-After: \(wait) s)" }
            return .retry(message + bodySuffix(response))
        case 300..<400:
            // Redirects are not followed (a signed audit stream must not wander to another
            // host); keep the records until the URL is fixed.
            return .retry("HTTP \(status) from \(request): redirects are not followed; set url to \(response.header("location") ?? "the new location")")
        case 401, 403:
            return .refused("HTTP \(status) from \(request): the receiver refuses the credential (token, secret or client certificate)" + bodySuffix(response))
        case 400..<500:
            return .permanent("HTTP \(status) from \(request)" + bodySuffix(response))
        default:
            return .retry("unexpected HTTP status \(status) from \(request)")
        }
    }

    static func verdict(_ error: HTTPClientError) -> Verdict {
        // Every transport failure may heal (a restarted receiver, a renewed certificate): the
        // host keeps the records and retries; the message says what to fix.
        .retry(error.message)
    }

    private static func bodySuffix(_ response: HTTPResponse) -> String {
        response.body.isEmpty ? "" : ": " + response.bodyPrefix(256)
    }

    /// `Retry-After` in seconds: delta-seconds or an IMF-fixdate (RFC 9110 §10.2.3); nil when
    /// absent or unreadable. Capped at one hour so a broken header cannot park a sink for days.
    static func retryAfterSeconds(_ response: HTTPResponse) -> Int? {
        guard let text = response.header("retry-after") else { return nil }
        if let seconds = Int(text), seconds >= 0 { return min(seconds, 3600) }
        guard let when = imfFixdate(text) else { return nil }
        return min(max(0, when - Int(time(nil))), 3600)
    }

    /// `Sun, 06 Nov 1994 08:49:37 GMT` as epoch seconds.
    static func imfFixdate(_ text: String) -> Int? {
        let parts = text.split(separator: " ")
        guard parts.count == 6, parts[5] == "GMT", let day = Int(parts[1]), let year = Int(parts[3]) else { return nil }
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        guard let month = months.firstIndex(of: String(parts[2])) else { return nil }
        let clock = parts[4].split(separator: ":").compactMap { Int($0) }
        guard clock.count == 3 else { return nil }
        var fields = tm()
        fields.tm_year = Int32(year - 1900)
        fields.tm_mon = Int32(month)
        fields.tm_mday = Int32(day)
        fields.tm_hour = Int32(clock[0])
        fields.tm_min = Int32(clock[1])
        fields.tm_sec = Int32(clock[2])
        return Int(timegm(&fields))
    }
}
