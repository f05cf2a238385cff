/// A position in a configuration file, 1-based, as a user's editor counts it.
///
/// libyaml counts lines and columns from 0 and columns in characters (not bytes); the parser adds
/// one to both so that `file:line:column` can be pasted into an editor's "go to" prompt.
public struct SourceMark: Sendable, Hashable, CustomStringConvertible {
    /// The file name as the user gave it (for example `config/laforge.yaml`), not a resolved path,
    /// so messages show the name the user typed.
    public var file: String
    public var line: Int
    public var column: Int

    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    /// `file:line:column`, the prefix of every configuration error.
    public var description: String { "\(file):\(line):\(column)" }
}
