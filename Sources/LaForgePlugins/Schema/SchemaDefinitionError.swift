/// A plugin's configuration schema is itself wrong.
///
/// `JSONSchema` checks the schema before any user configuration is validated against it, so
/// that a plugin author's mistake is reported as the plugin's fault (with the location inside
/// the schema) instead of surfacing later as a confusing error about the user's configuration.
public enum SchemaDefinitionError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A JSON Schema keyword the host does not implement (for example `patternProperties`).
    /// Ignoring it would silently accept configurations the author meant to reject.
    case unsupportedKeyword(keyword: String, schemaPointer: String, detail: String)
    /// A keyword that is neither JSON Schema nor an annotation the host knows, most often a
    /// typo (`requried`); `x-` keywords are reserved for such extensions and always allowed.
    case unknownKeyword(keyword: String, schemaPointer: String, suggestion: String?)
    /// A keyword whose value has the wrong shape (`"required": "x"`, `"minimum": "a"`).
    case invalidKeywordValue(keyword: String, schemaPointer: String, expected: String)
    /// A `pattern` that is not a valid regular expression.
    case invalidPattern(pattern: String, schemaPointer: String, reason: String)
    /// A local `$ref` that points at no schema in this document.
    case unresolvableReference(reference: String, schemaPointer: String)
    /// `$ref`s (possibly through `allOf`/`anyOf`/`oneOf`/`not`) that lead back to themselves
    /// without descending into the instance, which no validator can finish.
    case referenceCycle(schemaPointer: String)

    /// Where in the schema the problem is, as a URI fragment JSON pointer (`#/properties/mode`).
    public var schemaPointer: String {
        switch self {
        case .unsupportedKeyword(_, let pointer, _), .unknownKeyword(_, let pointer, _),
            .invalidKeywordValue(_, let pointer, _), .invalidPattern(_, let pointer, _),
            .unresolvableReference(_, let pointer), .referenceCycle(let pointer):
            return pointer
        }
    }

    public var description: String {
        switch self {
        case .unsupportedKeyword(let keyword, let pointer, let detail):
            return "schema keyword \"\(keyword)\" at \(pointer) is not supported: \(detail)"
        case .unknownKeyword(let keyword, let pointer, let suggestion):
            let hint = suggestion.map { " (did you mean \"\($0)\"?)" } ?? ""
            return "unknown schema keyword \"\(keyword)\" at \(pointer)\(hint)"
                + "; custom annotations must start with \"x-\""
        case .invalidKeywordValue(let keyword, let pointer, let expected):
            return "schema keyword \"\(keyword)\" at \(pointer) must be \(expected)"
        case .invalidPattern(let pattern, let pointer, let reason):
            return "schema pattern \"\(pattern)\" at \(pointer) is not a valid regular expression: \(reason)"
        case .unresolvableReference(let reference, let pointer):
            return "schema reference \"\(reference)\" at \(pointer) does not point to a schema in this document"
        case .referenceCycle(let pointer):
            return "schema at \(pointer) refers back to itself without descending into the value"
        }
    }
}
