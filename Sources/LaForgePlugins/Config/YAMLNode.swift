import LaForgeCore

/// One node of a parsed YAML document, with the place it was written.
///
/// Aliases are expanded by the parser, so a tree is always a plain tree. Mappings keep their keys
/// in document order; the parser has already refused duplicate keys. Every rendering of a node
/// (`description`, `debugDescription`, `dump`) prints `<redacted>` for a value that came from
/// `${secret:…}`.
public struct YAMLNode: Sendable, Hashable {
    public enum Content: Sendable, Hashable {
        case scalar(YAMLScalar)
        case sequence([YAMLNode])
        case mapping([YAMLMappingEntry])
    }

    public var content: Content
    /// Where the node starts: the first character of a scalar (its opening quote if quoted), the
    /// `[`/`{` of a flow collection, the first `-` or key of a block collection.
    public var mark: SourceMark
    /// The tag written in the document, expanded (`!!str` is `tag:yaml.org,2002:str`); nil when
    /// none was written. The parser accepts only the core-schema tags and `!`.
    public var tag: String?

    public init(_ content: Content, mark: SourceMark, tag: String? = nil) {
        self.content = content
        self.mark = mark
        self.tag = tag
    }

    public var scalar: YAMLScalar? {
        if case .scalar(let scalar) = content { return scalar }
        return nil
    }

    public var sequence: [YAMLNode]? {
        if case .sequence(let items) = content { return items }
        return nil
    }

    public var mapping: [YAMLMappingEntry]? {
        if case .mapping(let entries) = content { return entries }
        return nil
    }

    /// The value of `key` when this node is a mapping that has it.
    public subscript(key: String) -> YAMLNode? {
        mapping?.first { $0.key == key }?.value
    }

    /// True for a scalar whose value came, wholly or in part, from a resolved `${secret:…}`.
    public var isSecret: Bool { scalar?.isSecret ?? false }

    /// The node that `path` (relative to this node) designates, or nil if the tree has no such
    /// node. An index component also matches a mapping key spelled with the same digits, because a
    /// path parsed from a JSON Pointer cannot tell the two apart.
    public func node(at path: [JSONPathComponent]) -> YAMLNode? {
        var node = self
        for component in path {
            guard let child = node.child(component) else { return nil }
            node = child
        }
        return node
    }

    /// The source mark of the node `path` designates or, when the tree stops short of it, of the
    /// deepest node on the way (so "missing property" errors point at the mapping that lacks it).
    public func mark(at path: [JSONPathComponent]) -> SourceMark {
        var node = self
        for component in path {
            guard let child = node.child(component) else { break }
            node = child
        }
        return node.mark
    }

    private func child(_ component: JSONPathComponent) -> YAMLNode? {
        switch (component, content) {
        case (.index(let index), .sequence(let items)):
            return items.indices.contains(index) ? items[index] : nil
        case (.index(let index), .mapping):
            return self[String(index)]
        case (.key(let key), .mapping):
            return self[key]
        default:
            return nil
        }
    }

    /// The subtree as JSON. Integers and floats both become numbers (the parser refuses integers
    /// JSON cannot hold exactly, and infinities); quoted scalars are always strings.
    ///
    /// A `${secret:…}` that has not been resolved yet (see `resolvingSecrets(_:)`) appears as its
    /// reference text, for example `"${secret:dev/token}"`, and a resolved one as `"<redacted>"`:
    /// this is the form to show a user or to write to a log. What a plugin receives is built by
    /// `PluginSchemaCheck`, which writes the resolved bytes into a `PluginConfigJSON`.
    public func toJSON() -> JSONValue {
        toJSON { _ in .string(redactedPlaceholder) }
    }

    /// `toJSON()` with each resolved secret replaced by what `secret` returns for it.
    func toJSON(secret: (ResolvedSecretText) -> JSONValue) -> JSONValue {
        switch content {
        case .scalar(let scalar):
            if let resolved = scalar.secret { return secret(resolved) }
            switch scalar.value {
            case .null: return .null
            case .bool(let value): return .bool(value)
            case .int(let value): return .number(Double(value))
            case .float(let value): return .number(value)
            case .string(let value): return .string(value)
            }
        case .sequence(let items):
            return .array(items.map { $0.toJSON(secret: secret) })
        case .mapping(let entries):
            var object: [String: JSONValue] = [:]
            for entry in entries {
                object[entry.key] = entry.value.toJSON(secret: secret)
            }
            return .object(object)
        }
    }

    /// Paths (relative to this node) of every scalar whose value is a resolved secret, so code that
    /// works on the JSON form can redact them too.
    public var secretPaths: [[JSONPathComponent]] {
        var paths: [[JSONPathComponent]] = []
        visitScalars(path: []) { scalar, path in
            if scalar.isSecret { paths.append(path) }
        }
        return paths
    }

    /// Every `${secret:…}` still waiting to be resolved in this subtree, in document order.
    public var secretReferences: [SecretReference] {
        var references: [SecretReference] = []
        visitScalars(path: []) { scalar, _ in
            references += scalar.secretReferences
        }
        return references
    }

    /// The subtree with every `${secret:…}` replaced by what `resolve` returns. The scalars that
    /// held a reference are marked secret and render as `<redacted>` from then on; the resolved
    /// bytes stay in their `SecretValue`s (see `ResolvedSecretText`).
    ///
    /// A `ConfigError` thrown by `resolve` propagates unchanged; any other error becomes an
    /// `.interpolation` error at the reference, carrying the error's description, so `resolve`
    /// must not put the secret in its errors.
    public func resolvingSecrets(_ resolve: (SecretReference) throws -> SecretValue) throws(ConfigError) -> YAMLNode {
        try mappingScalars { scalar, _, _ throws(ConfigError) in
            guard let template = scalar.template else { return scalar }
            var parts: [ResolvedSecretText.Part] = []
            for segment in template {
                switch segment {
                case .text(let literal):
                    parts.append(.text(literal))
                case .secret(let reference):
                    do {
                        parts.append(.secret(try resolve(reference)))
                    } catch let error as ConfigError {
                        throw error
                    } catch {
                        throw ConfigError(
                            .interpolation, at: reference.mark, path: reference.path,
                            "cannot resolve \(reference): \(error)")
                    }
                }
            }
            do throws(ResolvedSecretText.NotText) {
                return YAMLScalar(resolvedSecret: try ResolvedSecretText(parts: parts), style: scalar.style)
            } catch {
                let reference = scalar.secretReferences[0]
                throw ConfigError(
                    .interpolation, at: reference.mark, path: reference.path,
                    "a secret in \(scalar.secretReferences.map(\.description).joined(separator: ", ")) is not UTF-8 text; a configuration value must be text (store it base64-encoded)")
            }
        }
    }

    /// The subtree with each pending `${secret:…}` reference replaced by `transform`'s result (used
    /// to bind references to their backend).
    func mappingSecretReferences(
        _ transform: (SecretReference) throws(ConfigError) -> SecretReference
    ) throws(ConfigError) -> YAMLNode {
        try mappingScalars { scalar, _, _ throws(ConfigError) in
            guard let template = scalar.template else { return scalar }
            var segments: [InterpolationSegment] = []
            for segment in template {
                if case .secret(let reference) = segment {
                    segments.append(.secret(try transform(reference)))
                } else {
                    segments.append(segment)
                }
            }
            return YAMLScalar(template: segments, style: scalar.style)
        }
    }

    /// The tree with every scalar replaced by what `transform` returns for it. `transform` also
    /// gets the scalar's node (for its mark and tag) and its path: `path` followed by the path from
    /// this node.
    func mappingScalars(
        path: [JSONPathComponent] = [],
        _ transform: (YAMLScalar, YAMLNode, [JSONPathComponent]) throws(ConfigError) -> YAMLScalar
    ) throws(ConfigError) -> YAMLNode {
        var copy = self
        switch content {
        case .scalar(let scalar):
            copy.content = .scalar(try transform(scalar, self, path))
        case .sequence(let items):
            var mapped: [YAMLNode] = []
            mapped.reserveCapacity(items.count)
            for (index, item) in items.enumerated() {
                mapped.append(try item.mappingScalars(path: path + [.index(index)], transform))
            }
            copy.content = .sequence(mapped)
        case .mapping(let entries):
            var mapped: [YAMLMappingEntry] = []
            mapped.reserveCapacity(entries.count)
            for entry in entries {
                var entry = entry
                entry.value = try entry.value.mappingScalars(path: path + [.key(entry.key)], transform)
                mapped.append(entry)
            }
            copy.content = .mapping(mapped)
        }
        return copy
    }

    func visitScalars(path: [JSONPathComponent], _ body: (YAMLScalar, [JSONPathComponent]) -> Void) {
        switch content {
        case .scalar(let scalar):
            body(scalar, path)
        case .sequence(let items):
            for (index, item) in items.enumerated() {
                item.visitScalars(path: path + [.index(index)], body)
            }
        case .mapping(let entries):
            for entry in entries {
                entry.value.visitScalars(path: path + [.key(entry.key)], body)
            }
        }
    }

    /// The type's name as error messages say it: "expected integer, got string".
    var typeName: String {
        switch content {
        case .scalar(let scalar): scalar.typeName
        case .sequence: "sequence"
        case .mapping: "mapping"
        }
    }

    /// The type and, for scalars, the value, as it follows "got" in a message: `string "ten"`,
    /// `integer 10`, `null`, `mapping`, `string <redacted>`.
    var valueSummary: String {
        guard let scalar else { return typeName }
        if scalar.isSecret || scalar.template != nil { return "\(typeName) \(redactedPlaceholder)" }
        switch scalar.value {
        case .null: return "null"
        case .bool(let value): return "boolean \(value)"
        case .int(let value): return "integer \(value)"
        case .float(let value): return "number \(value)"
        case .string(let value): return "string \(quotedForMessage(value))"
        }
    }
}

/// One `key: value` pair of a mapping. Keys are scalars and are kept as their text; `keyMark` is
/// where the key is written, which is where an "unknown key" error points.
public struct YAMLMappingEntry: Sendable, Hashable {
    public var key: String
    public var keyMark: SourceMark
    public var value: YAMLNode

    public init(key: String, keyMark: SourceMark, value: YAMLNode) {
        self.key = key
        self.keyMark = keyMark
        self.value = value
    }
}

extension YAMLNode: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// A one-line, flow-style rendering (`{name: "file", config: {token: <redacted>}}`).
    public var description: String {
        switch content {
        case .scalar(let scalar):
            return scalar.description
        case .sequence(let items):
            return "[" + items.map(\.description).joined(separator: ", ") + "]"
        case .mapping(let entries):
            return "{" + entries.map { "\($0.key): \($0.value.description)" }.joined(separator: ", ") + "}"
        }
    }

    public var debugDescription: String { "YAMLNode(\(mark): \(description))" }

    /// `dump()` and other reflection see the redacted rendering, not the stored secret.
    public var customMirror: Mirror {
        Mirror(self, children: ["mark": mark, "value": description], displayStyle: .struct)
    }
}

extension YAMLNode {
    /// `resolvingSecrets(_:)` through the runtime's secret broker. A failure becomes an
    /// `.interpolation` error at the reference, with the broker's message (which never holds the
    /// value).
    public func resolvingSecrets(with resolver: some SecretResolving) throws(ConfigError) -> YAMLNode {
        try resolvingSecrets { reference throws(ConfigError) -> SecretValue in
            do throws(SecretResolutionError) {
                return try resolver.resolveSecret(reference.qualifiedName)
            } catch {
                throw ConfigError(
                    .interpolation, at: reference.mark, path: reference.path,
                    "cannot resolve \(reference): \(error.message)")
            }
        }
    }
}
