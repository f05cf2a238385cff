import LaForgeAudit

/// Why a snapshot, approval, guard or provenance operation could not be done. The CLI maps
/// `kind` to its exit codes; verification *results* are reports, not errors.
public struct SnapshotError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// A snapshot id that matches none or several, a missing artifact, a bad option value.
        case invalidInput
        /// Keys or policy missing or unusable.
        case configuration
        /// The chain or approval file cannot be read or written.
        case storage
        /// The stored chain is damaged where an operation needs it intact.
        case corrupt
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}

extension SnapshotError {
    init(_ error: AuditLogError) {
        switch error.kind {
        case .configuration: self.init(.configuration, error.message)
        case .invalidEvent, .notFound: self.init(.invalidInput, error.message)
        case .corrupt: self.init(.corrupt, error.message)
        case .notDurable, .storage, .keyUnavailable: self.init(.storage, error.message)
        }
    }
}
