import Foundation
import Testing
@testable import LaForgeTestSupport

@testable import LaForgeAudit
@testable import LaForgeCore
@testable import LaForgeGovernance
@testable import LaForgeIdentity
@testable import LaForgeJournal
@testable import LaForgePlugins
@testable import LaForgeSecrets

/// The libyaml-backed parser: marks, core-schema typing, JSON conversion and the limits.
@Suite struct ConfigYAMLTests {
    private func parse(_ yaml: String) throws -> YAMLNode {
        try YAMLParser.parse(text: yaml, sourceName: "config/laforge.yaml")
    }

    private func parseError(_ yaml: String) -> ConfigError? {
        do {
            _ = try YAMLParser.parse(text: yaml, sourceName: "config/laforge.yaml")
            Issue.record("expected a parse error")
            return nil
        } catch {
            return error
        }
    }

    @Test func pluginSubtreeBecomesJSONWithCoreSchemaTypes() throws {
        let node = try parse(
            """
            config:
              count: 10
              negative: -3
              hex: 0x1F
              octal: 0o17
              ratio: 1.5e3
              quoted_int: "123"
              single_quoted: '42'
              enabled: true
              quoted_bool: "true"
              nothing: ~
              empty:
              tagged: !!str 123
              version_string: 1.0.2
              block: |
                line one
                line two
              list: [a, 1, false, null]
            """)
        let config = try #require(node["config"])
        #expect(
            config.toJSON()
                == .object([
                    "count": .number(10), "negative": .number(-3), "hex": .number(31), "octal": .number(15),
                    "ratio": .number(1500), "quoted_int": .string("123"), "single_quoted": .string("42"),
                    "enabled": .bool(true), "quoted_bool": .string("true"), "nothing": .null, "empty": .null,
                    "tagged": .string("123"), "version_string": .string("1.0.2"),
                    "block": .string("line one\nline two\n"),
                    "list": .array([.string("a"), .number(1), .bool(false), .null]),
                ]))
        #expect(config["quoted_int"]?.scalar?.isPlain == false)
        #expect(config["count"]?.scalar?.value == .int(10))
        #expect(config["ratio"]?.scalar?.value == .float(1500))
    }

    @Test(arguments: [
        ("yes", YAMLScalar.Value.string("yes")),  // YAML 1.1 booleans are strings in 1.2
        ("on", .string("on")),
        ("True", .bool(true)),
        ("FALSE", .bool(false)),
        ("Null", .null),
        ("+12", .int(12)),
        ("012", .int(12)),
        ("0x", .string("0x")),
        (".5", .float(0.5)),
        ("-1.", .float(-1)),
        ("1e3", .float(1000)),
        ("1_000", .string("1_000")),
        ("0b101", .string("0b101")),
    ])
    func plainScalarResolution(text: String, expected: YAMLScalar.Value) throws {
        let node = try parse("value: \(text)\n")
        #expect(node["value"]?.scalar?.value == expected)
    }

    @Test func marksOfNestedConfigPaths() throws {
        let path = configFixtures + "/valid.yaml"
        let config = try LaForgeConfig.load(path: path, environment: ["PLUGIN_ROOT": "/opt/laforge"])
        let sink = config.sinks[0]
        let subtree = try #require(sink.config)
        #expect(subtree.mark(at: ["batch_size"]) == SourceMark(file: path, line: 24, column: 21))
        #expect(subtree.mark(at: ["retry", "cap_ms"]) == SourceMark(file: path, line: 26, column: 41))
        #expect(subtree.mark(at: ["labels", 1]) == SourceMark(file: path, line: 29, column: 24))
        // A path that goes past the tree stops at the deepest node that exists.
        #expect(subtree.mark(at: ["retry", "jitter"]) == SourceMark(file: path, line: 26, column: 16))
        #expect(subtree.node(at: ["retry", "jitter"]) == nil)
        #expect(
            config.document.mark(at: ["audit", "sinks", 0, "config", "url"])
                == SourceMark(file: path, line: 23, column: 14))

        let error = ConfigError.pluginConfig(.type, instance: sink, at: ["batch_size"], "expected integer")
        #expect(error.description == "\(path):24:21: audit.sinks[0].config.batch_size: expected integer")
        let nested = ConfigError.pluginConfig(
            .missingKey, instance: sink, at: ["retry", "jitter"], "missing required key")
        #expect(nested.description == "\(path):26:16: audit.sinks[0].config.retry.jitter: missing required key")
    }

    @Test func keysKeepDocumentOrder() throws {
        let node = try parse("b: 1\na: 2\nc: 3\n")
        #expect(node.mapping?.map(\.key) == ["b", "a", "c"])
        #expect(node.mapping?.map(\.keyMark.line) == [1, 2, 3])
    }

    @Test func duplicateKeyInsideAPluginConfig() {
        let error = parseError("config:\n  url: a\n  retry: {url: 1, url: 2}\n")
        #expect(error?.kind == .duplicate)
        #expect(
            error?.description
                == "config/laforge.yaml:3:19: config.retry.url: duplicate key \"url\" (first defined at line 3, column 11)"
        )
    }

    @Test func aliasesExpandAndTakeTheAliasMark() throws {
        let node = try parse(
            """
            defaults: &retry { base_ms: 100, cap_ms: 5000 }
            sinks:
              - retry: *retry
            """)
        let retry = try #require(node.node(at: ["sinks", 0, "retry"]))
        #expect(retry.toJSON() == .object(["base_ms": .number(100), "cap_ms": .number(5000)]))
        #expect(retry.mark == SourceMark(file: "config/laforge.yaml", line: 3, column: 12))
    }

    @Test func aliasBombIsBounded() {
        var yaml = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        for level in 1...8 {
            let previous = "*a\(level - 1)"
            yaml += "a\(level): &a\(level) [\(Array(repeating: previous, count: 10).joined(separator: ", "))]\n"
        }
        let error = parseError(yaml)
        #expect(error?.kind == .invalidValue)
        #expect(error?.description.hasPrefix("config/laforge.yaml:5:") == true)
        #expect(error?.message == "the document expands to more than 100000 nodes (too many aliases?)")
    }

    @Test func undefinedAliasIsASyntaxError() {
        let error = parseError("a: *nowhere\n")
        #expect(error?.kind == .syntax)
        #expect(
            error?.description == "config/laforge.yaml:1:4: a: alias *nowhere refers to no anchor defined before it")
    }

    @Test func multipleDocumentsAreRefused() {
        let error = parseError("version: 1\n---\nversion: 1\n")
        #expect(error?.kind == .syntax)
        #expect(
            error?.description
                == "config/laforge.yaml:2:1: a second YAML document starts here; a configuration file holds exactly one document"
        )
    }

    @Test(arguments: ["", "# only a comment\n", "\n\n"])
    func emptyFileIsAClearError(text: String) {
        let error = parseError(text)
        #expect(error?.kind == .syntax)
        #expect(
            error?.description
                == "config/laforge.yaml:1:1: the configuration file is empty; it needs at least `version: 1`")
    }

    @Test func infinityAndNaNAreRefused() throws {
        let error = parseError("config:\n  ratio: .inf\n")
        #expect(error?.kind == .invalidValue)
        #expect(
            error?.description
                == "config/laforge.yaml:2:10: config.ratio: infinite and NaN numbers are not allowed in configuration; quote .inf to make it a string"
        )
        #expect(try parse("ratio: \".inf\"\n")["ratio"]?.toJSON() == .string(".inf"))
    }

    @Test func integersBeyondJSONPrecisionAreRefused() {
        let error = parseError("id: 9007199254740993\n")
        #expect(
            error?.description
                == "config/laforge.yaml:1:5: id: integer 9007199254740993 is out of range (JSON numbers hold integers up to ±2^53 exactly)"
        )
    }

    @Test func unsupportedTagsAreRefused() {
        let error = parseError("key: !vault secret/path\n")
        #expect(error?.description == "config/laforge.yaml:1:6: key: unsupported tag !vault on a scalar")
    }

    @Test func invalidUTF8IsLocated() {
        var bytes = Array("version: 1\nname: caf".utf8)
        bytes.append(0xFF)
        do {
            _ = try YAMLParser.parse(bytes: bytes, sourceName: "config/laforge.yaml")
            Issue.record("expected an error")
        } catch {
            #expect(error.kind == .syntax)
            #expect(error.description == "config/laforge.yaml:2:10: invalid leading UTF-8 octet (byte 0xFF)")
        }
    }

    @Test func nonScalarKeysAreRefused() {
        let error = parseError("? [a, b]\n: value\n")
        #expect(error?.description == "config/laforge.yaml:1:3: mapping keys must be scalars")
    }
}
