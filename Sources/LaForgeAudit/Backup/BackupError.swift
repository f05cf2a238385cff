/// Why a backup could not be made, verified or restored; the CLI maps `kind` to an exit code.
public struct BackupError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable {
        /// The configuration or the state directory cannot be backed up as asked (for example
        /// a private key that is not wrapped, without the flag that allows it).
        case configuration
        /// The backup file given cannot be read.
        case input
        /// The backup or restored file cannot be written, or the target exists.
        case output
        /// The backup is damaged or does not verify (a hash, the chain, a checkpoint).
        case corrupt
    }

    public var kind: Kind
    public var description: String

    public init(_ kind: Kind, _ description: String) {
        self.kind = kind
        self.description = description
    }
}
