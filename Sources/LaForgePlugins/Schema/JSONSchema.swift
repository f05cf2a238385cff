import LaForgeCore

/// A plugin's configuration schema: a JSON Schema (draft 2020-12) subset, checked when it is
/// loaded and then used to validate, complete (`default`) and redact configuration values.
///
/// Supported keywords: `type`, `enum`, `const`, `properties`, `required`,
/// `additionalProperties`, `items`, `minItems`, `maxItems`, `minimum`, `maximum`,
/// `exclusiveMinimum`, `exclusiveMaximum`, `minLength`, `maxLength`, `pattern`, `allOf`,
/// `anyOf`, `oneOf`, `not`, `default`, `$defs` and local `$ref` (`#`, `#/$defs/name`, any
/// JSON pointer to a subschema), boolean schemas, and the host's `x-laforge-secret`.
/// Annotations (`title`, `description`, `examples`, `format`, `deprecated`, `x-…`, …) are
/// accepted and ignored. Any other validation keyword makes `init` throw rather than be
/// silently ignored, because ignoring it would accept configurations the author meant to
/// reject.
public struct JSONSchema: Sendable {
    /// Compiled subschemas; index 0 is the root.
    let nodes: [SchemaNode]

    /// Checks and compiles `schema`. Throws on the first problem found, naming its location in
    /// the schema, so the error can be blamed on the plugin that shipped the schema.
    public init(_ schema: JSONValue) throws(SchemaDefinitionError) {
        var compiler = SchemaCompiler()
        nodes = try compiler.compile(schema)
    }

    static let rootIndex = 0
}
