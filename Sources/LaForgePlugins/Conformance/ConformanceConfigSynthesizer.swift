import Foundation
import LaForgeCore

/// Builds a configuration for a capability from its schema alone, so `laforge plugins check`
/// can exercise a plugin without the user writing one.
///
/// Only required properties are filled (the host applies `default`s to the rest), each with the
/// first of: its `default`, its first `examples` entry, its first `enum` value, its `const`, or
/// a value of its type. A string has no safe generic value, but most required strings of a sink
/// or a secret store name a file, so a string gets the path of an empty scratch file the kit
/// creates; a plugin that wants something else documents it with `examples`.
struct ConformanceConfigSynthesizer {
    /// The whole schema document, for resolving local `$ref`s.
    let schema: JSONValue
    let capability: PluginCapability
    let scratchDirectory: String
    /// Appended to every scratch file name, so a second instance gets files of its own.
    let scratchSuffix: String

    struct Synthesized {
        var config: JSONValue
        /// Empty files the kit must create before create() sees the config.
        var scratchFiles: [String]
        /// `path (scratch file)`, `mode (first enum value)`, ... for the report.
        var sources: [String]
    }

    func synthesize() -> Synthesized {
        var result = Synthesized(config: .object([:]), scratchFiles: [], sources: [])
        result.config = objectValue(for: schema, at: [], into: &result)
        return result
    }

    private func objectValue(for node: JSONValue, at path: [String], into result: inout Synthesized) -> JSONValue {
        var properties: [String: JSONValue] = [:]
        var required: [String] = []
        for member in applying(node) {
            for (name, property) in member["properties"]?.objectValue ?? [:] where properties[name] == nil {
                properties[name] = property
            }
            for name in member["required"]?.arrayValue?.compactMap(\.stringValue) ?? [] where !required.contains(name) {
                required.append(name)
            }
        }
        var members: [String: JSONValue] = [:]
        for name in required {
            members[name] = value(for: properties[name] ?? true, at: path + [name], into: &result)
        }
        return .object(members)
    }

    private func value(for node: JSONValue, at path: [String], into result: inout Synthesized) -> JSONValue {
        let name = path.joined(separator: ".")
        let members = applying(node)
        func first(_ pick: (JSONValue) -> JSONValue?) -> JSONValue? { members.lazy.compactMap(pick).first }

        if let value = first({ $0["default"] }) {
            result.sources.append("\(name) (default)")
            return value
        }
        if let value = first({ $0["examples"]?[0] }) {
            result.sources.append("\(name) (first example)")
            return value
        }
        if let value = first({ $0["enum"]?[0] }) {
            result.sources.append("\(name) (first enum value)")
            return value
        }
        if let value = first({ $0["const"] }) {
            result.sources.append("\(name) (const)")
            return value
        }
        let types = members.flatMap(Self.typeNames)
        let type =
            types.first { $0 != "null" } ?? types.first
            ?? (members.contains { $0["properties"] != nil } ? "object" : "string")
        switch type {
        case "integer", "number":
            result.sources.append("\(name) (minimum or 1)")
            return .number(numberValue(members, integer: type == "integer"))
        case "boolean":
            result.sources.append("\(name) (false)")
            return false
        case "array":
            result.sources.append("\(name) (empty array)")
            let minItems = first({ $0["minItems"] })?.intValue ?? 0
            guard minItems > 0, let items = first({ $0["items"] }) else { return [] }
            return .array((0..<minItems).map { value(for: items, at: path + ["\($0)"], into: &result) })
        case "object":
            result.sources.append("\(name) (object)")
            return objectValue(for: node, at: path, into: &result)
        case "null":
            result.sources.append("\(name) (null)")
            return .null
        default:
            let file = scratchDirectory + "/" + capability.rawValue + "-" + path.joined(separator: "-") + scratchSuffix
            result.scratchFiles.append(file)
            result.sources.append("\(name) (scratch file)")
            return .string(file)
        }
    }

    /// The smallest convenient number the bounds allow: `minimum`, else just above
    /// `exclusiveMinimum`, else 1 (or `maximum` when that is below 1).
    private func numberValue(_ members: [JSONValue], integer: Bool) -> Double {
        let minimum = members.lazy.compactMap { $0["minimum"]?.numberValue }.first
        let exclusiveMinimum = members.lazy.compactMap { $0["exclusiveMinimum"]?.numberValue }.first
        let maximum = members.lazy.compactMap { $0["maximum"]?.numberValue }.first
        if let minimum { return integer ? minimum.rounded(.up) : minimum }
        if let exclusiveMinimum { return integer ? (exclusiveMinimum + 1).rounded(.down) : exclusiveMinimum + 1 }
        if let maximum, maximum < 1 { return integer ? maximum.rounded(.down) : maximum }
        return 1
    }

    private static func typeNames(_ node: JSONValue) -> [String] {
        switch node["type"] {
        case .string(let name): return [name]
        case .array(let names): return names.compactMap(\.stringValue)
        default: return []
        }
    }

    /// `node` and what applies at the same place through local `$ref` and `allOf`, in order.
    private func applying(_ node: JSONValue) -> [JSONValue] {
        var result: [JSONValue] = []
        var pending = [node]
        // Bounded: a `$ref` cycle must not hang the kit (the compiler rejects most, not all).
        while let next = pending.first, result.count < 64 {
            pending.removeFirst()
            result.append(next)
            if let reference = next["$ref"]?.stringValue, let target = resolve(reference) {
                pending.append(target)
            }
            pending.append(contentsOf: next["allOf"]?.arrayValue ?? [])
        }
        return result
    }

    /// A local JSON pointer reference (`#`, `#/$defs/name`), or nil.
    private func resolve(_ reference: String) -> JSONValue? {
        guard reference.hasPrefix("#") else { return nil }
        var node = schema
        for token in reference.dropFirst().split(separator: "/", omittingEmptySubsequences: true) {
            let key = token.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
            if let index = Int(key), let element = node[index] {
                node = element
            } else if let member = node[key] {
                node = member
            } else {
                return nil
            }
        }
        return node
    }
}
