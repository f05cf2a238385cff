import PluginABI

/// The transport rule for every provider service URL (KMS, Secrets Manager / Secret Manager, STS,
/// GCP token_uri, Key Vault, the Entra ID authority): in production only `https://` (the
/// certificate is always verified: KMSSecrets has no switch to turn that off); in development also
/// plain `http://` to a loopback address (a local emulator such as moto), with a warning. Anything
/// else is refused when the instance is created, before a credential is sent anywhere.
///
/// The mode comes from the host (ABI 1.1 `laforge_host_api.mode`); a host that does not say is
/// treated as production, so the strict rule is the default.
///
/// Instance metadata services (EC2 IMDS, ECS/EKS container credentials, the GCE metadata server,
/// Azure IMDS) are plain HTTP on link-local addresses by their providers' design and are not
/// service endpoints in this sense.
struct EndpointPolicy {
    let production: Bool
    let host: HostServices

    init(host: HostServices) {
        self.host = host
        production = !host.isDevelopment
    }

    /// The endpoint's URL when the rule allows it.
    @discardableResult
    func checked(_ endpoint: ServiceEndpoint) throws(KMSError) -> String {
        let url = endpoint.url
        let lowered = url.lowercased()
        if lowered.hasPrefix("https://") { return url }
        guard lowered.hasPrefix("http://") else {
            throw KMSError.config("\(endpoint.origin): \(url) is not an https:// URL")
        }
        if production {
            throw KMSError.config("\(endpoint.origin): plain http:// (\(url)) is refused in mode: production; use https://")
        }
        guard Self.isLoopback(hostOf: url) else {
            throw KMSError.config(
                "\(endpoint.origin): plain http:// (\(url)) is allowed in development only to a loopback address (127.0.0.0/8, ::1, localhost)")
        }
        host.log(
            LAFORGE_LOG_WARNING,
            "KMSSecrets: \(endpoint.origin) \(url) is plain http:// to a loopback address (development only; refused in mode: production)")
        return url
    }

    /// Whether the URL's host is a loopback name or address. The host is what lies between
    /// `scheme://` (and any `userinfo@`) and the port or path.
    static func isLoopback(hostOf url: String) -> Bool {
        guard let colon = url.firstIndex(of: ":"), url[colon...].hasPrefix("://") else { return false }
        var authority = url[url.index(colon, offsetBy: 3)...]
        if let end = authority.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) { authority = authority[..<end] }
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
        let hostName: Substring
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return false }
            hostName = authority[authority.index(after: authority.startIndex)..<close]
        } else {
            hostName = authority.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        }
        let name = hostName.lowercased()
        if name == "localhost" || name == "::1" { return true }
        let octets = name.split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4, octets[0] == "127" else { return false }
        return octets.allSatisfy { part in UInt8(part) != nil }
    }
}
