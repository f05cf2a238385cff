/// An event that cannot be recorded as given, naming the field (and, for NDJSON input, the line).
public struct AuditEventError: Error, Sendable, Equatable, CustomStringConvertible {
    /// `actor.user`, `timestamp`, `data`.
    public var field: String
    public var message: String
    /// 1-based line of `--stdin` NDJSON input, when the event came from there.
    public var line: Int?

    public init(field: String, _ message: String, line: Int? = nil) {
        self.field = field
        self.message = message
        self.line = line
    }

    public var description: String {
        (line.map { "line \($0): " } ?? "") + (field.isEmpty ? message : "\(field): \(message)")
    }
}
