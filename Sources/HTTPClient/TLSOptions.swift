/// TLS settings of one client. Verification is on unless a caller turns it off explicitly; the
/// minimum protocol version is always TLS 1.2.
public struct TLSOptions: Sendable {
    /// Verify the server's certificate chain and host name (default true).
    public var verifyPeer: Bool = true
    /// PEM bundle of trusted CAs instead of the system store.
    public var caFile: String?
    /// PEM client certificate and its key, for mutual TLS.
    public var clientCertificate: String?
    public var clientKey: String?
    /// libcurl's CURLOPT_PINNEDPUBLICKEY: `sha256//<base64>` (several separated by `;`) or a PEM/DER file.
    public var pinnedPublicKey: String?

    public init(
        verifyPeer: Bool = true, caFile: String? = nil, clientCertificate: String? = nil, clientKey: String? = nil,
        pinnedPublicKey: String? = nil
    ) {
        self.verifyPeer = verifyPeer
        self.caFile = caFile
        self.clientCertificate = clientCertificate
        self.clientKey = clientKey
        self.pinnedPublicKey = pinnedPublicKey
    }
}

/// Settings shared by every request of one client.
public struct HTTPClientOptions: Sendable {
    public var tls = TLSOptions()
    public var connectTimeoutMilliseconds = 5_000
    /// The whole exchange, connect included.
    public var totalTimeoutMilliseconds = 30_000
    public var userAgent = "laforge-runtime"
    /// Bodies larger than this fail with `.responseTooLarge` (a hostile or broken server must not
    /// make the client allocate without bound).
    public var maxResponseBytes = 16 << 20
    /// Connect to this Unix domain socket instead of the URL's host (`laforge serve`'s API);
    /// the URL still gives the path and the Host header.
    public var unixSocketPath: String?

    public init(
        tls: TLSOptions = TLSOptions(), connectTimeoutMilliseconds: Int = 5_000, totalTimeoutMilliseconds: Int = 30_000,
        userAgent: String = "laforge-runtime", maxResponseBytes: Int = 16 << 20
    ) {
        self.tls = tls
        self.connectTimeoutMilliseconds = connectTimeoutMilliseconds
        self.totalTimeoutMilliseconds = totalTimeoutMilliseconds
        self.userAgent = userAgent
        self.maxResponseBytes = maxResponseBytes
    }
}
