import LaForgeCore

/// A `${secret:NAME}` or `${secret:BACKEND/NAME}` written in the configuration, waiting to be
/// resolved by a secret-backend plugin after the backends are loaded.
///
/// It holds no secret, only where to fetch one, so it may be printed.
public struct SecretReference: Sendable, Hashable, CustomStringConvertible {
    /// The secret-backend instance to ask; nil in the source for `${secret:NAME}`, and filled in by
    /// `LaForgeConfig` with the only configured backend (it refuses the short form otherwise).
    public var backend: String?
    /// The secret's name as the backend knows it; may contain `/` (`${secret:kms/prod/db}` is backend
    /// `kms`, name `prod/db`).
    public var name: String
    /// Where the reference is written.
    public var mark: SourceMark
    /// The key path of the scalar that holds the reference, from the document root.
    public var path: [JSONPathComponent]

    public init(backend: String?, name: String, mark: SourceMark, path: [JSONPathComponent]) {
        self.backend = backend
        self.name = name
        self.mark = mark
        self.path = path
    }

    /// `BACKEND/NAME`, or `NAME` while no backend is known: the form `SecretResolving` takes.
    public var qualifiedName: String {
        (backend.map { "\($0)/" } ?? "") + name
    }

    /// The reference as written: `${secret:dev/sink_token}`.
    public var description: String { "${secret:\(qualifiedName)}" }
}

/// A piece of a scalar that still holds `${secret:…}` references.
public enum InterpolationSegment: Sendable, Hashable {
    case text(String)
    case secret(SecretReference)

    /// The segment as it could be written back into YAML (a literal `${` comes back as `$${`).
    var sourceText: String {
        switch self {
        case .text(let text): text.replacing("${", with: "$${")
        case .secret(let reference): reference.description
        }
    }
}
