import LaForgeCore

extension JSONSchema {
    /// The text that replaces a secret value wherever configuration is shown or logged.
    public static let redactionMarker = "<redacted>"

    /// Paths in `instance` whose schema carries `"x-laforge-secret": true`, sorted.
    ///
    /// Secrecy is over-approximated on purpose: a value is secret if any schema that might
    /// apply to it says so, including every `anyOf`/`oneOf` branch, because showing a secret
    /// costs more than hiding a harmless value.
    public func secretPaths(in instance: JSONValue) -> [[JSONPathComponent]] {
        var paths: [[JSONPathComponent]] = []
        _ = redact([JSONSchema.rootIndex], instance, at: [], recording: &paths)
        return paths.sorted { JSONPathComponent.render($0) < JSONPathComponent.render($1) }
    }

    /// `instance` with every value at `secretPaths(in:)` replaced by `"<redacted>"`; use it
    /// for anything a person or a log may see (error reports, `config show`, audit details).
    public func redacting(_ instance: JSONValue) -> JSONValue {
        var paths: [[JSONPathComponent]] = []
        return redact([JSONSchema.rootIndex], instance, at: [], recording: &paths)
    }

    private func redact(
        _ schemaIndexes: [Int], _ value: JSONValue, at path: [JSONPathComponent],
        recording paths: inout [[JSONPathComponent]]
    ) -> JSONValue {
        let group = possiblyApplying(schemaIndexes)
        if group.contains(where: { nodes[$0].isSecret }) {
            paths.append(path)
            return .string(JSONSchema.redactionMarker)
        }
        switch value {
        case .object(var members):
            for key in members.keys.sorted() {
                var schemas: [Int] = []
                for index in group {
                    if let property = nodes[index].properties[key] {
                        schemas.append(property)
                    } else if let additional = nodes[index].additionalProperties {
                        schemas.append(additional)
                    }
                }
                if !schemas.isEmpty {
                    members[key] = redact(schemas, members[key]!, at: path + [.key(key)], recording: &paths)
                }
            }
            return .object(members)
        case .array(var elements):
            let schemas = group.compactMap { nodes[$0].items }
            guard !schemas.isEmpty else { return value }
            for position in elements.indices {
                elements[position] = redact(
                    schemas, elements[position], at: path + [.index(position)], recording: &paths)
            }
            return .array(elements)
        default:
            return value
        }
    }

    /// The given schemas plus every schema reachable at the same location through `$ref`,
    /// `allOf`, `anyOf` and `oneOf` (not `not`: a value matching it is invalid anyway).
    private func possiblyApplying(_ schemaIndexes: [Int]) -> [Int] {
        var result: [Int] = []
        var seen = Set<Int>()
        var pending = schemaIndexes
        while let index = pending.popLast() {
            guard seen.insert(index).inserted else { continue }
            result.append(index)
            let node = nodes[index]
            pending.append(contentsOf: node.allOf + node.anyOf + node.oneOf)
            if let reference = node.reference { pending.append(reference) }
        }
        return result
    }
}
