/// A request that got no HTTP response, classified so callers can decide (retry a timeout or a
/// reset connection; fix a TLS or DNS setting). Messages name the URL, never header values.
public struct HTTPClientError: Error, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// The connect or total timeout passed.
        case timeout
        /// Nothing listens there (ECONNREFUSED), or the host is unreachable.
        case connectionRefused
        /// The connection broke during the exchange (reset, closed early, empty reply).
        case connectionReset
        /// Handshake, certificate verification, or a client certificate/key/CA file problem.
        case tls
        /// The host name does not resolve.
        case dns
        /// The request itself is unusable (bad URL, unsupported option); retrying cannot help.
        case invalidRequest
        /// The response body exceeded the client's limit.
        case responseTooLarge
        /// Anything else libcurl reports.
        case other
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }

    /// Whether a later attempt may succeed without a configuration change.
    public var isTransient: Bool {
        switch kind {
        case .timeout, .connectionRefused, .connectionReset, .dns, .other: return true
        case .tls, .invalidRequest, .responseTooLarge: return false
        }
    }
}
