import Hummingbird
import LaForgeHost
import NIOCore

/// The per-request context: Hummingbird's core storage, the connection (for the peer's
/// credentials) and, once `CallerMiddleware` ran, who is calling.
public struct ServeRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    let channel: any Channel
    /// The kernel's account of the peer; nil before `CallerMiddleware`.
    var peer: PeerCredentials?
    /// The `serve.clients` entry the peer matched; nil for a caller not listed.
    var client: ServeConfig.Client?
    /// Request bodies above this are refused with 413 (serve.max_body_bytes).
    var bodyLimit = 4 << 20

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }

    public var maxUploadSize: Int { bodyLimit }
}
