/// Why a JSON document was rejected, and where.
///
/// The position is given three ways because each reader needs a different one: `offset` for
/// tools, `line` and `column` (both 1-based, the column counting Unicode scalars) for a person
/// looking at the file in an editor.
public struct JSONParseError: Error, CustomStringConvertible, Equatable, Sendable {
    /// Byte offset (0-based) of the first byte that made the document invalid.
    public let offset: Int
    /// 1-based line of `offset`; lines are separated by LF.
    public let line: Int
    /// 1-based column of `offset`, counted in Unicode scalars from the start of the line.
    public let column: Int
    /// What is wrong, phrased for the person who wrote the document.
    public let message: String
    /// The member path of the offending value (`data.amount`, `data.list[2]`), when the parser
    /// tracked it (exact-number parsing of audit input).
    public var field: String?

    public init(offset: Int, line: Int, column: Int, message: String) {
        self.offset = offset
        self.line = line
        self.column = column
        self.message = message
    }

    public var description: String {
        "line \(line), column \(column) (byte \(offset)): \(message)"
    }
}
