/// Why the audit log could not open or record. The CLI maps `kind` to its exit codes.
public struct AuditLogError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The event is malformed (the caller's to fix).
        case invalidEvent
        /// The journal could not make the events durable; nothing was recorded (fail-closed).
        case notDurable
        /// Keys or settings are missing or unusable (configuration).
        case configuration
        /// The journal or checkpoint log cannot be read or written.
        case storage
        /// The journal's own checks found changed, missing or reordered data (tampering or disk
        /// corruption, never a torn write): a verification failure.
        case corrupt
        /// The checkpoint signing key cannot be had for now (the KMS that unwraps it is down or
        /// refuses): entries are still recorded, checkpoints follow when the key is back.
        case keyUnavailable
        /// What the caller asked for does not exist (an entry past the journal's end).
        case notFound
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}
