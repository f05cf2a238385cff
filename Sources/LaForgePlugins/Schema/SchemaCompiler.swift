import Foundation
import LaForgeCore

/// Turns a schema document into `SchemaNode`s, checking every keyword value on the way.
struct SchemaCompiler {
    private var nodes: [SchemaNode] = []
    /// Every compiled subschema by its (unescaped) JSON pointer tokens, for `$ref`.
    private var nodeByLocation: [[String]: Int] = [:]

    /// Keywords of the 2020-12 vocabularies that this subset deliberately does not implement.
    static let unsupportedKeywords: Set<String> = [
        "multipleOf", "uniqueItems", "contains", "minContains", "maxContains", "prefixItems",
        "patternProperties", "propertyNames", "dependentRequired", "dependentSchemas",
        "dependencies", "if", "then", "else", "unevaluatedItems", "unevaluatedProperties",
        "minProperties", "maxProperties", "$anchor", "$dynamicRef", "$dynamicAnchor",
        "$recursiveRef", "$recursiveAnchor", "$vocabulary", "definitions",
    ]

    /// Keywords that only annotate; they never change whether a value is valid.
    static let annotationKeywords: Set<String> = [
        "title", "description", "$comment", "examples", "deprecated", "readOnly", "writeOnly",
        "format", "contentEncoding", "contentMediaType", "contentSchema",
    ]

    static let supportedKeywords: Set<String> = [
        "$schema", "$id", "$defs", "$ref", "type", "enum", "const", "properties", "required",
        "additionalProperties", "items", "minItems", "maxItems", "minimum", "maximum",
        "exclusiveMinimum", "exclusiveMaximum", "minLength", "maxLength", "pattern", "allOf",
        "anyOf", "oneOf", "not", "default", secretKeyword,
    ]

    static let secretKeyword = "x-laforge-secret"

    static let draft202012 = "https://json-schema.org/draft/2020-12/schema"

    mutating func compile(_ schema: JSONValue) throws(SchemaDefinitionError) -> [SchemaNode] {
        _ = try compileNode(schema, location: [])
        try resolveReferences()
        try rejectReferenceCycles()
        return nodes
    }

    // MARK: Nodes

    private mutating func compileNode(_ schema: JSONValue, location: [String])
        throws(SchemaDefinitionError) -> Int
    {
        let pointer = Self.pointer(location)
        let index = nodes.count
        nodeByLocation[location] = index
        switch schema {
        case .bool(let flag):
            nodes.append(SchemaNode(pointer: pointer, booleanSchema: flag))
            return index
        case .object(let keywords):
            nodes.append(SchemaNode(pointer: pointer))
            // Unsupported keywords are reported before any other problem in the same schema
            // object, so "not supported" is never hidden behind a consequence of it.
            let ordered = keywords.keys.sorted()
            for keyword in ordered where Self.unsupportedKeywords.contains(keyword) {
                throw .unsupportedKeyword(
                    keyword: keyword, schemaPointer: pointer,
                    detail: "the host implements a subset of JSON Schema 2020-12")
            }
            var node = SchemaNode(pointer: pointer)
            for keyword in ordered {
                try compileKeyword(keyword, keywords[keyword]!, into: &node, location: location)
            }
            nodes[index] = node
            return index
        default:
            throw .invalidKeywordValue(
                keyword: location.last ?? "(root)", schemaPointer: pointer,
                expected: "a schema (an object or a boolean), not \(schema.typeName)")
        }
    }

    private mutating func compileKeyword(
        _ keyword: String, _ value: JSONValue, into node: inout SchemaNode, location: [String]
    ) throws(SchemaDefinitionError) {
        let here = location + [keyword]
        let pointer = Self.pointer(here)
        func invalid(_ expected: String) -> SchemaDefinitionError {
            .invalidKeywordValue(keyword: keyword, schemaPointer: pointer, expected: expected)
        }
        switch keyword {
        case "$schema":
            guard let uri = value.stringValue else { throw invalid("a string") }
            guard uri == Self.draft202012 || uri == Self.draft202012 + "#" else {
                throw .unsupportedKeyword(
                    keyword: keyword, schemaPointer: pointer,
                    detail: "only \(Self.draft202012) is supported, not \(uri)")
            }
        case "$id":
            guard value.stringValue != nil else { throw invalid("a string") }
            if !location.isEmpty {
                // An embedded $id starts a new resource with its own base URI; resolving
                // references against it is beyond this subset.
                throw .unsupportedKeyword(
                    keyword: keyword, schemaPointer: pointer,
                    detail: "\"$id\" is only supported on the root schema")
            }
        case "$defs":
            guard case .object(let definitions) = value else { throw invalid("an object of schemas") }
            for name in definitions.keys.sorted() {
                _ = try compileNode(definitions[name]!, location: here + [name])
            }
        case "$ref":
            guard let reference = value.stringValue else { throw invalid("a string") }
            node.referenceText = reference
        case "type":
            node.types = try compileTypes(value, invalid: invalid)
        case "enum":
            guard case .array(let values) = value else { throw invalid("an array") }
            node.enumValues = values
        case "const":
            node.constValue = value
        case "default":
            node.defaultValue = value
        case "properties":
            guard case .object(let properties) = value else { throw invalid("an object of schemas") }
            for name in properties.keys.sorted() {
                node.properties[name] = try compileNode(properties[name]!, location: here + [name])
            }
        case "required":
            guard case .array(let names) = value else { throw invalid("an array of strings") }
            var seen = Set<String>()
            for name in names {
                guard let name = name.stringValue else { throw invalid("an array of strings") }
                guard seen.insert(name).inserted else { throw invalid("an array of unique strings") }
                node.required.append(name)
            }
        case "additionalProperties":
            node.additionalProperties = try compileNode(value, location: here)
        case "items":
            if case .array = value {
                throw invalid("a schema; use \"prefixItems\" for per-position schemas (draft 2020-12)")
            }
            node.items = try compileNode(value, location: here)
        case "not":
            node.not = try compileNode(value, location: here)
        case "allOf", "anyOf", "oneOf":
            guard case .array(let schemas) = value, !schemas.isEmpty else {
                throw invalid("a non-empty array of schemas")
            }
            var compiled: [Int] = []
            for (position, schema) in schemas.enumerated() {
                compiled.append(try compileNode(schema, location: here + [String(position)]))
            }
            switch keyword {
            case "allOf": node.allOf = compiled
            case "anyOf": node.anyOf = compiled
            default: node.oneOf = compiled
            }
        case "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum":
            guard let bound = value.numberValue else { throw invalid("a number") }
            switch keyword {
            case "minimum": node.minimum = bound
            case "maximum": node.maximum = bound
            case "exclusiveMinimum": node.exclusiveMinimum = bound
            default: node.exclusiveMaximum = bound
            }
        case "minLength", "maxLength", "minItems", "maxItems":
            guard let count = value.intValue, count >= 0 else { throw invalid("a non-negative integer") }
            switch keyword {
            case "minLength": node.minLength = count
            case "maxLength": node.maxLength = count
            case "minItems": node.minItems = count
            default: node.maxItems = count
            }
        case "pattern":
            guard let source = value.stringValue else { throw invalid("a string") }
            do {
                node.pattern = CompiledPattern(
                    source: source, expression: try NSRegularExpression(pattern: source))
            } catch {
                throw .invalidPattern(
                    pattern: source, schemaPointer: pointer, reason: error.localizedDescription)
            }
        case Self.secretKeyword:
            guard let flag = value.boolValue else { throw invalid("a boolean") }
            node.isSecret = flag
        default:
            if keyword.hasPrefix("x-") || Self.annotationKeywords.contains(keyword) { return }
            let candidates = Array(Self.supportedKeywords.union(Self.annotationKeywords)).sorted()
            throw .unknownKeyword(
                keyword: keyword, schemaPointer: Self.pointer(location),
                suggestion: closestMatch(to: keyword, in: candidates))
        }
    }

    private func compileTypes(
        _ value: JSONValue, invalid: (String) -> SchemaDefinitionError
    ) throws(SchemaDefinitionError) -> [SchemaType] {
        let names = SchemaType.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")
        let expected = "a type name or an array of unique type names (\(names))"
        let items: [JSONValue]
        switch value {
        case .string: items = [value]
        case .array(let array): items = array
        default: throw invalid(expected)
        }
        var types: [SchemaType] = []
        for item in items {
            guard let name = item.stringValue, let type = SchemaType(rawValue: name),
                !types.contains(type)
            else { throw invalid(expected) }
            types.append(type)
        }
        return types
    }

    // MARK: References

    private mutating func resolveReferences() throws(SchemaDefinitionError) {
        for index in nodes.indices {
            guard let reference = nodes[index].referenceText else { continue }
            let pointer = nodes[index].pointer == "#" ? "#/$ref" : nodes[index].pointer + "/$ref"
            guard reference.hasPrefix("#") else {
                throw .unsupportedKeyword(
                    keyword: "$ref", schemaPointer: pointer,
                    detail: "only references inside the same schema (\"#/...\") are supported, not \"\(reference)\"")
            }
            let fragment = String(reference.dropFirst()).removingPercentEncoding ?? ""
            guard fragment.isEmpty || fragment.hasPrefix("/") else {
                throw .unsupportedKeyword(
                    keyword: "$ref", schemaPointer: pointer,
                    detail: "anchor references (\"\(reference)\") are not supported")
            }
            let tokens =
                fragment.isEmpty
                ? []
                : fragment.dropFirst().split(separator: "/", omittingEmptySubsequences: false).map {
                    $0.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
                }
            guard let target = nodeByLocation[tokens] else {
                throw .unresolvableReference(reference: reference, schemaPointer: pointer)
            }
            nodes[index].reference = target
        }
    }

    /// Rejects in-place cycles (`{"$ref": "#"}` at the root, or two `$defs` referring to each
    /// other through `allOf`), which would make validation recurse forever.
    private func rejectReferenceCycles() throws(SchemaDefinitionError) {
        enum Mark { case visiting, done }
        var marks: [Int: Mark] = [:]
        func visit(_ index: Int) throws(SchemaDefinitionError) {
            switch marks[index] {
            case .done: return
            case .visiting: throw .referenceCycle(schemaPointer: nodes[index].pointer)
            case nil: break
            }
            marks[index] = .visiting
            for next in nodes[index].inPlaceApplicators {
                try visit(next)
            }
            marks[index] = .done
        }
        for index in nodes.indices {
            try visit(index)
        }
    }

    /// RFC 6901 pointer as a URI fragment, the form schema tools print.
    static func pointer(_ location: [String]) -> String {
        "#"
            + location.map {
                "/" + $0.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1")
            }.joined()
    }
}
