import LaForgePlugins

/// Full-jitter exponential backoff (the AWS Architecture Blog's "full jitter"): the n-th retry
/// waits a uniformly random time in [0, min(cap, base × 2^n)], which spreads a fleet of
/// workers retrying against one recovering SIEM instead of synchronizing them.
public struct RetryPolicy: Sendable {
    public var baseMilliseconds: Int
    public var capMilliseconds: Int
    /// 0: unbounded (the audit default: an outage never drops entries).
    public var maxAttempts: Int

    public init(baseMilliseconds: Int, capMilliseconds: Int, maxAttempts: Int) {
        self.baseMilliseconds = baseMilliseconds
        self.capMilliseconds = capMilliseconds
        self.maxAttempts = maxAttempts
    }

    public init(_ settings: DeliverySettings) {
        self.init(
            baseMilliseconds: settings.retryBaseMilliseconds, capMilliseconds: settings.retryCapMilliseconds,
            maxAttempts: settings.maxAttempts)
    }

    /// The upper bound of the wait before retry number `attempt` (0-based).
    public func ceilingMilliseconds(attempt: Int) -> Int {
        let shift = min(attempt, 30)
        let grown = baseMilliseconds.multipliedReportingOverflow(by: 1 << shift)
        return grown.overflow ? capMilliseconds : min(capMilliseconds, grown.partialValue)
    }

    public func delayMilliseconds<G: RandomNumberGenerator>(attempt: Int, using generator: inout G) -> Int {
        Int.random(in: 0...ceilingMilliseconds(attempt: attempt), using: &generator)
    }

    public func delayMilliseconds(attempt: Int) -> Int {
        var generator = SystemRandomNumberGenerator()
        return delayMilliseconds(attempt: attempt, using: &generator)
    }

    /// Whether attempt number `attempt` (1-based count of failures so far) exhausts the budget.
    public func isExhausted(afterFailures failures: Int) -> Bool {
        maxAttempts > 0 && failures >= maxAttempts
    }
}
