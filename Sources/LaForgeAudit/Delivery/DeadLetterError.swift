/// Why a dead-letter command could not do what was asked; the CLI maps `kind` to an exit code.
public struct DeadLetterError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable {
        /// No sink of that name, or the sink's plugin does not start.
        case configuration
        /// The id names no dead letter of the sink.
        case notFound
        /// The dead-letter file or the dispositions cannot be read or written, or the journal
        /// no longer holds the record.
        case storage
        /// The dead-letter file disagrees with the journal (a hash differs): nothing is sent.
        case corrupt
        /// The sink refused again, or another process delivers to it right now.
        case delivery
    }

    public var kind: Kind
    public var description: String

    public init(_ kind: Kind, _ description: String) {
        self.kind = kind
        self.description = description
    }
}
