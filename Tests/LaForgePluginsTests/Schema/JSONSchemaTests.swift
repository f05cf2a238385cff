import Testing
@testable import LaForgeTestSupport

@testable import LaForgeAudit
@testable import LaForgeCore
@testable import LaForgeGovernance
@testable import LaForgeIdentity
@testable import LaForgeJournal
@testable import LaForgePlugins
@testable import LaForgeSecrets

@Suite("JSONSchema")
struct JSONSchemaTests {
    /// A schema shaped like a real sink plugin's configuration.
    static let sinkSchema: JSONValue = [
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "file sink",
        "type": "object",
        "additionalProperties": false,
        "required": ["path"],
        "properties": [
            "path": ["type": "string", "minLength": 1],
            "batch_size": ["type": "integer", "minimum": 1, "maximum": 10000, "default": 100],
            "fsync": ["enum": ["always", "batch", "never"], "default": "batch"],
            "api_key": ["type": "string", "x-laforge-secret": true, "pattern": "^sk-"],
            "retry": [
                "type": "object",
                "default": [:],
                "properties": [
                    "attempts": ["type": "integer", "default": 3],
                    "backoff": ["$ref": "#/$defs/backoff"],
                ],
            ],
            "headers": [
                "type": "array",
                "items": [
                    "type": "object",
                    "properties": [
                        "name": ["type": "string"],
                        "value": ["type": "string", "x-laforge-secret": true],
                        "sensitive": ["type": "boolean", "default": false],
                    ],
                ],
            ],
        ],
        "$defs": [
            "backoff": [
                "type": "object",
                "default": ["initial_ms": 100],
                "properties": [
                    "initial_ms": ["type": "integer"],
                    "max_ms": ["type": "integer", "default": 30000],
                ],
            ]
        ],
    ]

    @Test("a valid configuration has no violations")
    func valid() throws {
        let schema = try JSONSchema(Self.sinkSchema)
        #expect(schema.validate(["path": "/var/log/audit", "batch_size": 5.0, "fsync": "never"]) == [])
        #expect(schema.isValid(["path": "/x"]))
    }

    @Test("type, enum, range and required messages read as user-facing sentences")
    func messages() throws {
        let schema = try JSONSchema(Self.sinkSchema)
        let violations = schema.validate(["batch_size": "abc", "fsync": "sometimes", "retry": ["attempts": 1.5]])
        #expect(
            violations.map(\.description) == [
                "missing required key \"path\"",
                "batch_size: expected integer, got string \"abc\"",
                "fsync: must be one of \"always\", \"batch\", \"never\"",
                "retry.attempts: expected integer, got number 1.5",
            ])
        #expect(violations.map(\.keyword) == ["required", "type", "enum", "type"])
        #expect(violations[0].instancePath == [])
        #expect(violations[3].instancePath == [.key("retry"), .key("attempts")])

        let range = schema.validate(["path": "", "batch_size": 0])
        #expect(
            range.map(\.description) == [
                "batch_size: must be >= 1, got 0",
                "path: must be at least 1 character long, got 0",
            ])
    }

    @Test("unknown keys suggest the closest declared property")
    func didYouMean() throws {
        let schema = try JSONSchema(Self.sinkSchema)
        let violations = schema.validate(["path": "/x", "batchsize": 10, "zzzzzz": 1])
        #expect(
            violations.map(\.description) == [
                "batchsize: unknown key \"batchsize\" (did you mean \"batch_size\"?)",
                "zzzzzz: unknown key \"zzzzzz\"",
            ])
        #expect(violations.allSatisfy { $0.keyword == "additionalProperties" })
    }

    @Test("path strings use dots, brackets and quoted odd keys")
    func pathString() {
        let violation = SchemaViolation(
            instancePath: [.key("plugins"), .index(2), .key("config"), .key("a.b"), .key("batch_size")],
            keyword: "type", message: "m")
        #expect(violation.pathString == "plugins[2].config[\"a.b\"].batch_size")
        #expect(JSONPathComponent.render([.index(0), .key("x")]) == "[0].x")
        #expect(JSONPathComponent.render([]) == "")
    }

    @Test("defaults fill absent properties, recursively and inside object defaults")
    func defaults() throws {
        let schema = try JSONSchema(Self.sinkSchema)
        let normalized = schema.applyingDefaults(to: [
            "path": "/x",
            "fsync": "always",
            "headers": [["name": "a"], ["name": "b", "sensitive": true]],
        ])
        #expect(
            normalized == [
                "path": "/x",
                "fsync": "always",
                "batch_size": 100,
                "retry": ["attempts": 3, "backoff": ["initial_ms": 100, "max_ms": 30000]],
                "headers": [["name": "a", "sensitive": false], ["name": "b", "sensitive": true]],
            ])

        // A present object gets its own missing defaults, including through $ref, and the
        // default object of a $ref'd schema is itself completed.
        let nested = schema.applyingDefaults(to: ["path": "/x", "retry": ["backoff": [:]]])
        #expect(nested["retry"] == ["attempts": 3, "backoff": ["max_ms": 30000]])
        let viaRefDefault = try JSONSchema([
            "properties": ["backoff": ["$ref": "#/$defs/backoff"]],
            "$defs": (Self.sinkSchema["$defs"])!,
        ]).applyingDefaults(to: [:])
        #expect(viaRefDefault == ["backoff": ["initial_ms": 100, "max_ms": 30000]])
    }

    @Test("defaults from allOf members apply; present values are never replaced")
    func defaultsFromAllOf() throws {
        let schema = try JSONSchema([
            "allOf": [
                ["properties": ["a": ["default": 1]]],
                ["properties": ["a": ["default": 2], "b": ["default": "x"]]],
            ],
            "properties": ["c": ["type": "integer", "default": 0]],
        ])
        #expect(schema.applyingDefaults(to: [:]) == ["a": 1, "b": "x", "c": 0])
        #expect(schema.applyingDefaults(to: ["c": "wrong"]) == ["a": 1, "b": "x", "c": "wrong"])
        #expect(schema.applyingDefaults(to: "not an object") == "not an object")
    }

    @Test("secret values are found, redacted and never quoted in messages")
    func secrets() throws {
        let schema = try JSONSchema(Self.sinkSchema)
        let config: JSONValue = [
            "path": "/x",
            "api_key": "pk-live-123",
            "headers": [["name": "Authorization", "value": "Bearer abc"], ["name": "X"]],
        ]
        #expect(
            schema.secretPaths(in: config) == [
                [.key("api_key")],
                [.key("headers"), .index(0), .key("value")],
            ])
        #expect(
            schema.redacting(config) == [
                "path": "/x",
                "api_key": "<redacted>",
                "headers": [["name": "Authorization", "value": "<redacted>"], ["name": "X"]],
            ])
        let violations = schema.validate(config).map(\.description)
        #expect(violations == ["api_key: must match the pattern \"^sk-\""])
        #expect(!violations.joined().contains("pk-live"))
        let wrongType = schema.validate(["path": "/x", "api_key": 12345]).map(\.description)
        #expect(wrongType == ["api_key: expected string, got number"])
    }

    @Test("secrets declared in a oneOf branch or via $ref are redacted too")
    func secretsThroughApplicators() throws {
        let schema = try JSONSchema([
            "properties": [
                "token": ["oneOf": [["type": "null"], ["$ref": "#/$defs/secret"]]],
                "extra": ["additionalProperties": ["$ref": "#/$defs/secret"]],
            ],
            "$defs": ["secret": ["type": "string", "x-laforge-secret": true]],
        ])
        let redacted = schema.redacting(["token": "t0k", "extra": ["a": "1", "b": "2"], "other": "visible"])
        #expect(
            redacted == ["token": "<redacted>", "extra": ["a": "<redacted>", "b": "<redacted>"], "other": "visible"])
    }

    @Test("oneOf and anyOf report the closest alternative")
    func alternatives() throws {
        let schema = try JSONSchema(["oneOf": [["type": "integer"], ["type": "string", "minLength": 3]]])
        #expect(
            schema.validate("ab").map(\.description) == [
                "must match exactly one of 2 allowed forms; closest: expected integer, got string \"ab\""
            ])
        let overlapping = try JSONSchema(["oneOf": [["type": "number"], ["type": "integer"]]])
        #expect(
            overlapping.validate(1).map(\.message) == [
                "must match exactly one of 2 allowed forms, but matches forms 1 and 2"
            ])
        #expect(try JSONSchema(false).validate(1).map(\.message) == ["no value is allowed here"])
        #expect(try JSONSchema(true).validate(["anything": [1]]) == [])
    }

    @Test(
        "a broken plugin schema is reported with its location in the schema",
        arguments: [
            (["required": "x"], "#/required", "must be an array of strings"),
            (["properties": ["n": ["minimum": "a"]]], "#/properties/n/minimum", "must be a number"),
            (["pattern": "a("], "#/pattern", "not a valid regular expression"),
            (["type": "int"], "#/type", "must be a type name"),
            (["maxLength": -1], "#/maxLength", "non-negative integer"),
            (["maxItems": 1.5], "#/maxItems", "non-negative integer"),
            (["items": [["type": "string"]]], "#/items", "prefixItems"),
            (["anyOf": []], "#/anyOf", "non-empty array"),
            (["properties": ["a": 3]], "#/properties/a", "a schema"),
            (["properties": ["a/b~c": ["requried": ["x"]]]], "#/properties/a~1b~0c", "did you mean \"required\""),
            (["$ref": "#/$defs/missing"], "#/$ref", "does not point to a schema"),
            (["$ref": "#"], "#", "refers back to itself"),
            (["x-laforge-secret": "yes"], "#/x-laforge-secret", "must be a boolean"),
        ] as [(JSONValue, String, String)])
    func definitionErrors(schema: JSONValue, pointer: String, message: String) {
        #expect {
            _ = try JSONSchema(schema)
        } throws: { error in
            guard let error = error as? SchemaDefinitionError else { return false }
            #expect(error.schemaPointer == pointer, "\(error)")
            #expect(error.description.contains(message), "\(error)")
            return true
        }
    }

    @Test("unsupported keywords are refused, annotations accepted")
    func keywordPolicy() throws {
        #expect {
            _ = try JSONSchema(["properties": ["a": ["patternProperties": ["^x": true]]]])
        } throws: { error in
            guard case .unsupportedKeyword("patternProperties", "#/properties/a", _) = error as? SchemaDefinitionError
            else { return false }
            return true
        }
        #expect(throws: SchemaDefinitionError.self) {
            _ = try JSONSchema(["$schema": "http://json-schema.org/draft-07/schema#"])
        }
        _ = try JSONSchema([
            "title": "t", "description": "d", "$comment": "c", "examples": [1], "deprecated": true,
            "readOnly": false, "format": "uri", "x-ui-order": 3, "$id": "https://example.com/s",
        ])
    }

    @Test("validation follows recursive $ref through the instance")
    func recursiveReference() throws {
        let tree = try JSONSchema([
            "type": "object",
            "properties": ["name": ["type": "string"], "children": ["type": "array", "items": ["$ref": "#"]]],
            "additionalProperties": false,
        ])
        let violations = tree.validate(["name": "root", "children": [["name": "a", "children": [["name": 1]]]]])
        #expect(violations.map(\.description) == ["children[0].children[0].name: expected string, got number 1"])
    }
}
