import LaForgeCore

extension JSONSchema {
    /// `instance` with every absent property that has a `default` filled in, recursively into
    /// present objects and arrays and into the defaults themselves. This normalized value is
    /// what a plugin receives, so plugins never re-implement their own defaults.
    ///
    /// Defaults are gathered from a schema, its `$ref` target and its `allOf` members: those
    /// always apply. `anyOf`/`oneOf` branches are not consulted because which branch applies
    /// is not known until after validation. If two applicable schemas give a default for the
    /// same property, the first (the schema's own, then `$ref`, then `allOf` in order) wins.
    /// Values present in `instance` are never changed, even if invalid: validate after this.
    public func applyingDefaults(to instance: JSONValue) -> JSONValue {
        applyDefaults([JSONSchema.rootIndex], to: instance)
    }

    private func applyDefaults(_ schemaIndexes: [Int], to value: JSONValue) -> JSONValue {
        let group = alwaysApplying(schemaIndexes)
        switch value {
        case .object(var members):
            var declared: [String: [Int]] = [:]
            var order: [String] = []
            for index in group {
                for (key, property) in nodes[index].properties.sorted(by: { $0.key < $1.key }) {
                    if declared[key] == nil { order.append(key) }
                    declared[key, default: []].append(property)
                }
            }
            for key in order where members[key] == nil {
                if let fallback = defaultValue(of: declared[key]!) {
                    members[key] = fallback
                }
            }
            for (key, child) in members {
                var schemas = declared[key] ?? []
                if schemas.isEmpty {
                    schemas = group.compactMap { nodes[$0].additionalProperties }
                }
                if !schemas.isEmpty {
                    members[key] = applyDefaults(schemas, to: child)
                }
            }
            return .object(members)
        case .array(let elements):
            let schemas = group.compactMap { nodes[$0].items }
            guard !schemas.isEmpty else { return value }
            return .array(elements.map { applyDefaults(schemas, to: $0) })
        default:
            return value
        }
    }

    private func defaultValue(of schemaIndexes: [Int]) -> JSONValue? {
        alwaysApplying(schemaIndexes).lazy.compactMap { nodes[$0].defaultValue }.first
    }

    /// The given schemas plus everything they pull in at the same location through `$ref` and
    /// `allOf`, in order, without repeats. Cycles were rejected at init, but the visited set
    /// also keeps shared `$defs` from being walked twice.
    private func alwaysApplying(_ schemaIndexes: [Int]) -> [Int] {
        var result: [Int] = []
        var seen = Set<Int>()
        var pending = Array(schemaIndexes.reversed())
        while let index = pending.popLast() {
            guard seen.insert(index).inserted else { continue }
            result.append(index)
            let node = nodes[index]
            var next = node.allOf
            if let reference = node.reference { next.insert(reference, at: 0) }
            pending.append(contentsOf: next.reversed())
        }
        return result
    }
}
