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

/// `${env:}`, `${file:}`, `${secret:}` and `$${`, and the rule that a secret never reaches a
/// rendering.
@Suite struct ConfigInterpolationTests {
    @Test func unsetEnvironmentVariableIsNamed() {
        let error = configError("version: 1\nstate_dir: ${env:LAFORGE_STATE}\n", environment: ["HOME": "/root"])
        #expect(error?.kind == .interpolation)
        #expect(
            error?.description == "config/laforge.yaml:2:12: state_dir: environment variable LAFORGE_STATE is not set")
    }

    @Test func environmentValuesAreTypedLikeTheTextTheyExpandTo() throws {
        let config = try decodeConfig(
            """
            version: ${env:VERSION}
            state_dir: ${env:HOME}/state
            audit:
              sinks:
                - name: file
                  library: libFileSink.so
                  config:
                    port: "${env:PORT}"
                    retries: ${env:PORT}
                    label: port-${env:PORT}
            """,
            environment: ["VERSION": "1", "HOME": "/home/ops", "PORT": "8080"])
        #expect(config.version == 1)
        #expect(config.stateDir == "/home/ops/state")
        #expect(
            config.sinks[0].configJSON
                == .object(["port": .string("8080"), "retries": .number(8080), "label": .string("port-8080")]))
    }

    @Test func unquotedReferenceInAFlowMappingIsASyntaxError() {
        // `{` and `}` end a plain scalar inside `{…}`, so references there must be quoted.
        let error = configError("version: 1\naudit: { sinks: ${env:SINKS} }\n", environment: ["SINKS": "[]"])
        #expect(error?.kind == .syntax)
        #expect(
            error?.description
                == "config/laforge.yaml:2:18: did not find expected ',' or '}' (while parsing a flow mapping at line 2, column 8)"
        )
    }

    @Test func fileReferenceIsRelativeToTheConfigFolderAndDropsOneNewline() throws {
        let json = try fileSinkConfigJSON(
            #"{ token: "${file:token.txt}", inline: "Bearer ${file:token.txt}!" }"#, baseDirectory: configFixtures)
        #expect(
            json
                == .object(["token": .string("s3cr3t-token"), "inline": .string("Bearer s3cr3t-token!")]))
    }

    @Test func missingFileReferenceNamesThePath() {
        let path = configFixtures + "/missing-file.yaml"
        let error = configLoadError(path: path)
        #expect(error?.kind == .interpolation)
        #expect(
            error?.description
                == "\(path):6:14: secret_backends[0].config.token: cannot read ${file:no-such-token.txt} (\(configFixtures)/no-such-token.txt): No such file or directory"
        )
    }

    @Test func doubleDollarEscapesALiteralReference() throws {
        let json = try fileSinkConfigJSON(
            """

              template: $${env:HOME} is not expanded
              price: costs $5 or $$5
              mixed: "$${file:x} and ${env:USER}"
            """,
            environment: ["USER": "ops"])
        #expect(
            json
                == .object([
                    "template": .string("${env:HOME} is not expanded"),
                    "price": .string("costs $5 or $$5"),
                    "mixed": .string("${file:x} and ops"),
                ]))
    }

    @Test func malformedReferences() {
        let unterminated = configError("version: 1\nstate_dir: ${env:HOME\n")
        #expect(
            unterminated?.description
                == "config/laforge.yaml:2:12: state_dir: unterminated reference \"${env:HOME\"; write $${ for a literal ${"
        )

        let unknown = configError("version: 1\nstate_dir: ${envv:HOME}\n")
        #expect(
            unknown?.description
                == "config/laforge.yaml:2:12: state_dir: unknown reference kind \"envv\" in \"${envv:HOME}\"; did you mean env? (known: env, file, secret)"
        )

        let badName = configError("version: 1\nstate_dir: ${env:1ABC}\n")
        #expect(
            badName?.description
                == "config/laforge.yaml:2:12: state_dir: invalid environment variable name \"1ABC\" in \"${env:1ABC}\"")
    }

    @Test func secretInSecretBackendsIsRefused() {
        let error = configError(
            """
            version: 1
            secret_backends:
              - name: dev
                library: libexample_plugin.so
                config:
                  password: ${secret:dev/master}
            """)
        #expect(error?.kind == .interpolation)
        #expect(
            error?.description
                == "config/laforge.yaml:6:17: secret_backends[0].config.password: secret backends cannot take their own config from a secret (${secret:dev/master})"
        )
    }

    @Test func secretOutsidePluginConfigIsRefused() {
        let error = configError("version: 1\nstate_dir: ${secret:dev/dir}\n")
        #expect(
            error?.description
                == "config/laforge.yaml:2:12: state_dir: ${secret:dev/dir} is not allowed here; ${secret:…} may only be used inside a plugin's config"
        )
    }

    @Test func secretReferencesAreKeptAndBoundToTheirBackend() throws {
        let config = try LaForgeConfig.load(
            path: configFixtures + "/valid.yaml", environment: ["PLUGIN_ROOT": "/opt/laforge"])
        let references = try #require(config.sinks[0].config).secretReferences
        #expect(references.map(\.description) == ["${secret:vault/siem_api_key}", "${secret:vault/siem_token}"])
        #expect(JSONPathComponent.render(references[0].path) == "audit.sinks[0].config.api_key")
        #expect(references[0].mark == SourceMark(file: configFixtures + "/valid.yaml", line: 27, column: 18))
        // Unresolved, the plugin's JSON holds the reference text, never a value.
        #expect(config.sinks[0].configJSON["header"] == .string("Bearer ${secret:vault/siem_token}"))
    }

    @Test func secretBackendMustExist() {
        let yaml = """
            version: 1
            secret_backends:
              - { name: vault, library: libexample_plugin.so }
              - { name: kms, library: libKMSSecrets.so }
            audit:
              sinks:
                - name: siem
                  library: libSIEMWebhook.so
                  config: { key: "${secret:valt/key}", other: "${secret:key}" }
            """
        #expect(
            configError(yaml)?.description
                == "config/laforge.yaml:9:22: audit.sinks[0].config.key: ${secret:valt/key} names an unknown secret backend \"valt\"; did you mean \"vault\"?"
        )
        let ambiguous = yaml.replacingOccurrences(of: "valt/key", with: "vault/key")
        #expect(
            configError(ambiguous)?.description
                == "config/laforge.yaml:9:52: audit.sinks[0].config.other: ${secret:key} is ambiguous: several secret backends are configured (vault, kms); write ${secret:BACKEND/key}"
        )
    }

    @Test func resolvedSecretsAreRedactedInEveryRendering() throws {
        let config = try LaForgeConfig.load(
            path: configFixtures + "/valid.yaml", environment: ["PLUGIN_ROOT": "/opt/laforge"])
        let sink = config.sinks[0]
        var asked: [String] = []
        let resolved = try #require(sink.config).resolvingSecrets { reference in
            asked.append(reference.qualifiedName)
            return SecretValue(string: reference.name == "siem_api_key" ? "hunter2" : "tok-42")
        }
        #expect(asked == ["vault/siem_api_key", "vault/siem_token"])

        // The plugin gets the value, in the configuration buffer its create reads...
        let check = try PluginSchemaCheck(schemaText: #"{"type":"object"}"#, library: "test")
        let pluginConfig = try check.normalize(sink, config: resolved).get()
        let (text, length) = pluginConfig.withCString { pointer, length in (String(cString: pointer), length) }
        #expect(text.utf8.count == length)
        #expect(text.contains(#""api_key":"hunter2""#), "\(text.count) bytes")
        #expect(text.contains(#""header":"Bearer tok-42""#))
        #expect(resolved.secretPaths == [["api_key"], ["header"]])
        #expect(resolved["api_key"]?.isSecret == true)
        #expect(resolved["url"]?.isSecret == false)

        // ...and nothing that renders shows it.
        var dumped = ""
        dump(resolved, to: &dumped)
        let renderings = [
            resolved.description, resolved.debugDescription, String(describing: resolved["api_key"]!),
            String(reflecting: resolved["header"]!.scalar!), dumped, "\(resolved.toJSON())",
        ]
        for rendering in renderings {
            #expect(!rendering.contains("hunter2"), "\(rendering)")
            #expect(!rendering.contains("tok-42"), "\(rendering)")
            #expect(rendering.contains("<redacted>"), "\(rendering)")
        }
        #expect(resolved.toJSON()["api_key"] == .string("<redacted>"))

        // A type error about a secret value names the type, not the value.
        let value = ConfigValue(node: resolved["api_key"]!, path: ["api_key"])
        #expect(value.typeMismatch(expected: "integer").message == "expected integer, got string <redacted>")

        // A schema violation of a secret value is told without it (the schema saw a stand-in).
        let integerKey = try PluginSchemaCheck(
            schemaText: #"{"type":"object","properties":{"api_key":{"type":"integer"}}}"#, library: "test")
        guard case .failure(let failure) = integerKey.normalize(sink, config: resolved) else {
            Issue.record("a string secret passed an integer schema")
            return
        }
        #expect(
            failure.errors.map(\.description)
                == ["\(configFixtures)/valid.yaml:27:18: audit.sinks[0].config.api_key: expected integer, got string"])
    }

    /// The bytes a plugin receives for a resolved secret are the RFC 8785 string of its text: the
    /// same escaping as the rest of the canonical configuration, whatever the secret holds.
    @Test func aResolvedSecretIsEscapedAsTheCanonicalFormWritesAString() throws {
        let config = try LaForgeConfig.load(
            path: configFixtures + "/valid.yaml", environment: ["PLUGIN_ROOT": "/opt/laforge"])
        let sink = config.sinks[0]
        let awkward = "q\"uote\\back\u{1}ctl\n\tnl é 🔑 \u{7f}"
        let resolved = try #require(sink.config).resolvingSecrets { _ in SecretValue(string: awkward) }
        let check = try PluginSchemaCheck(schemaText: #"{"type":"object"}"#, library: "test")
        let text = try check.normalize(sink, config: resolved).get().withCString { pointer, _ in String(cString: pointer) }
        let parsed = try JSONParser.parse(text)
        #expect(parsed["api_key"] == .string(awkward))
        #expect(parsed["header"] == .string("Bearer " + awkward))
        #expect(text == JSONCanonicalizer.canonicalString(parsed))
    }

    /// A secret whose bytes are not UTF-8 cannot be a configuration string: refused at its
    /// reference, without its bytes, rather than handed over with replacement characters.
    @Test func aSecretThatIsNotTextIsRefusedAtItsReference() throws {
        let config = try LaForgeConfig.load(
            path: configFixtures + "/valid.yaml", environment: ["PLUGIN_ROOT": "/opt/laforge"])
        let subtree = try #require(config.sinks[0].config)
        do {
            _ = try subtree.resolvingSecrets { _ in SecretValue(bytes: [0x61, 0xFF, 0xFE, 0x62]) }
            Issue.record("a non-UTF-8 secret was accepted")
        } catch {
            #expect(error.kind == .interpolation)
            #expect(
                error.description
                    == "\(configFixtures)/valid.yaml:27:18: audit.sinks[0].config.api_key: a secret in ${secret:vault/siem_api_key} is not UTF-8 text; a configuration value must be text (store it base64-encoded)")
        }
    }

    /// A resolved secret is checked for its type only: constraints on its content (length,
    /// pattern, enum) are the plugin's, because the host does not hold the value as text.
    @Test func aResolvedSecretIsValidatedForItsTypeOnly() throws {
        let config = try LaForgeConfig.load(
            path: configFixtures + "/valid.yaml", environment: ["PLUGIN_ROOT": "/opt/laforge"])
        let sink = config.sinks[0]
        let resolved = try #require(sink.config).resolvingSecrets { _ in SecretValue(string: "short") }
        let constrained = try PluginSchemaCheck(
            schemaText: #"{"type":"object","properties":{"api_key":{"type":"string","minLength":40,"pattern":"^x+$","enum":["a"]}}}"#,
            library: "test")
        let text = try constrained.normalize(sink, config: resolved).get().withCString { pointer, _ in String(cString: pointer) }
        #expect(text.contains(#""api_key":"short""#))
    }

    @Test func resolverFailureIsLocatedAtTheReference() throws {
        struct BackendDown: Error, CustomStringConvertible {
            var description: String { "backend vault is unreachable" }
        }
        let config = try LaForgeConfig.load(
            path: configFixtures + "/valid.yaml", environment: ["PLUGIN_ROOT": "/opt/laforge"])
        let subtree = try #require(config.sinks[0].config)
        do {
            _ = try subtree.resolvingSecrets { _ -> SecretValue in throw BackendDown() }
            Issue.record("expected an error")
        } catch {
            #expect(error.kind == .interpolation)
            #expect(
                error.description
                    == "\(configFixtures)/valid.yaml:27:18: audit.sinks[0].config.api_key: cannot resolve ${secret:vault/siem_api_key}: backend vault is unreachable"
            )
        }
    }

    @Test func resolvesThroughTheSecretBroker() throws {
        struct OneSecret: SecretResolving {
            func resolveSecret(_ reference: String) throws(SecretResolutionError) -> SecretValue {
                guard reference == "vault/siem_api_key" else {
                    throw SecretResolutionError(reference: reference, status: .notFound, message: "no such secret")
                }
                return SecretValue(string: "hunter2")
            }
        }
        let config = try LaForgeConfig.load(
            path: configFixtures + "/valid.yaml", environment: ["PLUGIN_ROOT": "/opt/laforge"])
        let subtree = try #require(config.sinks[0].config)
        do {
            _ = try subtree.resolvingSecrets(with: OneSecret())
            Issue.record("expected an error")
        } catch {
            #expect(
                error.description
                    == "\(configFixtures)/valid.yaml:28:17: audit.sinks[0].config.header: cannot resolve ${secret:vault/siem_token}: no such secret"
            )
        }
        let apiKey = try #require(subtree["api_key"]).resolvingSecrets(with: OneSecret())
        #expect(apiKey.toJSON() == .string("<redacted>"))
        #expect(apiKey.isSecret)
    }
}
