/// An OAuth 2.0 bearer token (GCP, Azure) and when it stops working. Never printed.
struct AccessToken {
    var value: String
    /// Seconds since the epoch.
    var expiresAt: Double

    /// Refreshed five minutes before expiry, so a request never leaves with a token that dies in flight.
    var needsRefresh: Bool { Clock.now() >= expiresAt - 300 }
}

/// A source of bearer tokens, cached until shortly before they expire.
protocol TokenSource: AnyObject {
    func token() throws(KMSError) -> String
    /// Forget the cached token (the service answered 401).
    func invalidate()
}
