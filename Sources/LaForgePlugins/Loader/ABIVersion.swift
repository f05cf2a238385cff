import PluginABI

/// The plugin ABI this host implements, and the rule that decides whether a plugin may load.
///
/// The rule is Falco's: majors must be equal (a major bump changes behaviour), and the plugin's
/// minor must not be newer than the host's (a newer minor may rely on appended fields this host
/// would not fill in).
public struct ABIVersion: Sendable, Equatable, CustomStringConvertible {
    public var major: Int
    public var minor: Int

    public init(major: Int, minor: Int) {
        self.major = major
        self.minor = minor
    }

    public static let host = ABIVersion(
        major: Int(LAFORGE_ABI_VERSION_MAJOR), minor: Int(LAFORGE_ABI_VERSION_MINOR))

    /// The version of the LaForge runtime itself (not of the ABI).
    public static let hostVersion = "0.1.0"

    public var description: String { "\(major).\(minor)" }

    /// Why a plugin built for `self` cannot be loaded by `host`, or nil when it can.
    public func incompatibility(withHost host: ABIVersion = .host) -> String? {
        if major != host.major {
            return "plugin was built for ABI \(self) but this host provides ABI \(host): "
                + "the major versions must be equal (rebuild the plugin against the \(host.major).x header)"
        }
        if minor > host.minor {
            return "plugin requires ABI \(self) but this host provides ABI \(host): "
                + "upgrade the LaForge runtime or use a plugin built for \(host.major).\(host.minor)"
        }
        return nil
    }
}
