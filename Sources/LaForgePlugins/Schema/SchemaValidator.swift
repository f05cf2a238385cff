import LaForgeCore

extension JSONSchema {
    /// Every way `instance` fails the schema, in a stable order (object keys sorted), with
    /// messages meant for the person who wrote the configuration. Empty means valid.
    ///
    /// A string in `opaqueStrings` stands for a value the host does not hold as text (a resolved
    /// `${secret:…}`): it is checked for its type only, never against `const`, `enum`, lengths or
    /// patterns, and never quoted in a message. The plugin checks the value itself in `create`.
    public func validate(_ instance: JSONValue, opaqueStrings: Set<String> = []) -> [SchemaViolation] {
        var validator = SchemaValidator(nodes: nodes, opaqueStrings: opaqueStrings)
        validator.validate(JSONSchema.rootIndex, instance, at: [], secret: false)
        return validator.violations
    }

    /// Whether `instance` is valid; cheaper to read than `validate(_:).isEmpty` at call sites.
    public func isValid(_ instance: JSONValue) -> Bool {
        validate(instance).isEmpty
    }
}

/// The recursive walk behind `JSONSchema.validate(_:)`.
struct SchemaValidator {
    let nodes: [SchemaNode]
    let opaqueStrings: Set<String>
    var violations: [SchemaViolation] = []

    init(nodes: [SchemaNode], opaqueStrings: Set<String>) {
        self.nodes = nodes
        self.opaqueStrings = opaqueStrings
    }

    /// `secret` is inherited from enclosing `x-laforge-secret` schemas so that no message
    /// below a secret ever quotes the value.
    mutating func validate(_ index: Int, _ value: JSONValue, at path: [JSONPathComponent], secret: Bool) {
        let node = nodes[index]
        let opaque: Bool
        if case .string(let string) = value, opaqueStrings.contains(string) { opaque = true } else { opaque = false }
        let secret = secret || node.isSecret || opaque
        if let flag = node.booleanSchema {
            if !flag { report(path, "false", "no value is allowed here") }
            return
        }
        func fail(_ keyword: String, _ message: String) {
            report(path, keyword, message)
        }

        if let types = node.types, !types.contains(where: { $0.matches(value) }) {
            let expected = Self.list(types.map(\.rawValue), conjunction: "or")
            fail("type", "expected \(expected), got \(Self.describe(value, secret: secret))")
            // Further checks on a value of the wrong type only add noise.
            return
        }
        if opaque {
            validateCombinators(node, value, at: path, secret: secret)
            return
        }
        if let constValue = node.constValue, constValue != value {
            fail("const", "must be \(constValue)")
        }
        if let allowed = node.enumValues, !allowed.contains(value) {
            if allowed.count == 1 {
                fail("enum", "must be \(allowed[0])")
            } else {
                fail("enum", "must be one of " + allowed.map(\.description).joined(separator: ", "))
            }
        }

        switch value {
        case .number(let number):
            let got = secret ? "" : ", got \(JSONCanonicalizer.formatNumber(number))"
            if let bound = node.minimum, !(number >= bound) {
                fail("minimum", "must be >= \(JSONCanonicalizer.formatNumber(bound))\(got)")
            }
            if let bound = node.maximum, !(number <= bound) {
                fail("maximum", "must be <= \(JSONCanonicalizer.formatNumber(bound))\(got)")
            }
            if let bound = node.exclusiveMinimum, !(number > bound) {
                fail("exclusiveMinimum", "must be > \(JSONCanonicalizer.formatNumber(bound))\(got)")
            }
            if let bound = node.exclusiveMaximum, !(number < bound) {
                fail("exclusiveMaximum", "must be < \(JSONCanonicalizer.formatNumber(bound))\(got)")
            }
        case .string(let string):
            if node.minLength != nil || node.maxLength != nil {
                // 2020-12 §6.3.1: length counts code points, not UTF-16 units or graphemes.
                let length = string.unicodeScalars.count
                if let limit = node.minLength, length < limit {
                    fail("minLength", "must be at least \(Self.count(limit, "character")) long, got \(length)")
                }
                if let limit = node.maxLength, length > limit {
                    fail("maxLength", "must be at most \(Self.count(limit, "character")) long, got \(length)")
                }
            }
            if let pattern = node.pattern, !pattern.matches(string) {
                let got = secret ? "" : ", got \(Self.describe(value, secret: false))"
                fail("pattern", "must match the pattern \(JSONValue.string(pattern.source))\(got)")
            }
        case .array(let elements):
            if let limit = node.minItems, elements.count < limit {
                fail("minItems", "must have at least \(Self.count(limit, "item")), got \(elements.count)")
            }
            if let limit = node.maxItems, elements.count > limit {
                fail("maxItems", "must have at most \(Self.count(limit, "item")), got \(elements.count)")
            }
            if let items = node.items {
                for (position, element) in elements.enumerated() {
                    validate(items, element, at: path + [.index(position)], secret: secret)
                }
            }
        case .object(let members):
            for key in node.required where members[key] == nil {
                fail("required", "missing required key \(JSONValue.string(key))")
            }
            for key in members.keys.sorted() {
                let child = members[key]!
                let childPath = path + [.key(key)]
                if let property = node.properties[key] {
                    validate(property, child, at: childPath, secret: secret)
                } else if let additional = node.additionalProperties {
                    if nodes[additional].booleanSchema == false {
                        let suggestion = closestMatch(to: key, in: node.properties.keys.sorted())
                        let hint = suggestion.map { " (did you mean \(JSONValue.string($0))?)" } ?? ""
                        report(childPath, "additionalProperties", "unknown key \(JSONValue.string(key))\(hint)")
                    } else {
                        validate(additional, child, at: childPath, secret: secret)
                    }
                }
            }
        case .null, .bool:
            break
        }

        validateCombinators(node, value, at: path, secret: secret)
    }

    /// `$ref`, `allOf`, `anyOf`, `oneOf` and `not` at the same location.
    private mutating func validateCombinators(_ node: SchemaNode, _ value: JSONValue, at path: [JSONPathComponent], secret: Bool) {
        func fail(_ keyword: String, _ message: String) {
            report(path, keyword, message)
        }
        if let reference = node.reference {
            validate(reference, value, at: path, secret: secret)
        }
        for member in node.allOf {
            validate(member, value, at: path, secret: secret)
        }
        if !node.anyOf.isEmpty {
            let outcomes = node.anyOf.map { violations(of: $0, value, at: path, secret: secret) }
            if !outcomes.contains(where: \.isEmpty) {
                fail(
                    "anyOf",
                    "must match at least one of \(Self.count(outcomes.count, "allowed form"))" + Self.closest(outcomes))
            }
        }
        if !node.oneOf.isEmpty {
            let outcomes = node.oneOf.map { violations(of: $0, value, at: path, secret: secret) }
            let matching = outcomes.indices.filter { outcomes[$0].isEmpty }
            if matching.isEmpty {
                fail(
                    "oneOf",
                    "must match exactly one of \(Self.count(outcomes.count, "allowed form"))" + Self.closest(outcomes))
            } else if matching.count > 1 {
                let which = Self.list(matching.map { String($0 + 1) }, conjunction: "and")
                fail(
                    "oneOf",
                    "must match exactly one of \(Self.count(outcomes.count, "allowed form")), but matches forms \(which)"
                )
            }
        }
        if let not = node.not, violations(of: not, value, at: path, secret: secret).isEmpty {
            fail("not", "must not match the schema given in \"not\"")
        }
    }

    private func violations(of index: Int, _ value: JSONValue, at path: [JSONPathComponent], secret: Bool)
        -> [SchemaViolation]
    {
        var nested = SchemaValidator(nodes: nodes, opaqueStrings: opaqueStrings)
        nested.validate(index, value, at: path, secret: secret)
        return nested.violations
    }

    private mutating func report(_ path: [JSONPathComponent], _ keyword: String, _ message: String) {
        violations.append(SchemaViolation(instancePath: path, keyword: keyword, message: message))
    }

    // MARK: Message helpers

    /// The first problem of the alternative that came closest, so a user who meant one of
    /// the forms learns what to fix in it.
    private static func closest(_ outcomes: [[SchemaViolation]]) -> String {
        guard let best = outcomes.min(by: { $0.count < $1.count }), let first = best.first else { return "" }
        return "; closest: \(first)"
    }

    /// `string "abc"`, `number 1.5`, `object`. Secret values are named by type only.
    static func describe(_ value: JSONValue, secret: Bool) -> String {
        switch value {
        case .null: return "null"
        case .bool(let flag): return secret ? "boolean" : "boolean \(flag)"
        case .number(let number): return secret ? "number" : "number \(JSONCanonicalizer.formatNumber(number))"
        case .string(let string):
            if secret { return "string" }
            let limit = 60
            let scalars = string.unicodeScalars
            let shown = scalars.count > limit ? String(String.UnicodeScalarView(scalars.prefix(limit))) + "…" : string
            return "string \(JSONValue.string(shown))"
        case .array: return "array"
        case .object: return "object"
        }
    }

    static func list(_ items: [String], conjunction: String) -> String {
        guard items.count > 1 else { return items.first ?? "" }
        return items.dropLast().joined(separator: ", ") + " \(conjunction) " + items.last!
    }

    static func count(_ number: Int, _ noun: String) -> String {
        "\(number) \(noun)\(number == 1 ? "" : "s")"
    }
}
