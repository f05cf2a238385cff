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

/// The typed configuration: every check asserts the exact message a user sees.
@Suite struct ConfigTests {
    @Test func decodesEveryKey() throws {
        let config = try LaForgeConfig.load(
            path: configFixtures + "/valid.yaml", environment: ["PLUGIN_ROOT": "/opt/laforge"])
        #expect(config.version == 1)
        #expect(config.mode == .production)
        #expect(config.stateDir == "/var/lib/laforge")
        #expect(config.pluginDir == "/opt/laforge/plugins")
        #expect(config.trustedKeys.map(\.name) == ["release-2026"])
        #expect(
            config.trustedKeys.first?.publicKey
                == Array(Data(base64Encoded: "ZJzCwH3fN0ky/HJvbF34e30gPcrbEDXfdC2ddirWJUI=")!))
        #expect(config.secretBackends.map(\.name) == ["vault"])
        #expect(config.secretBackends.first?.role == .secretBackend)
        #expect(config.secretBackends.first?.config?["token"]?.toJSON() == .string("s3cr3t-token"))
        #expect(config.sinks.map(\.name) == ["siem", "file"])
        #expect(config.sinks.map(\.library) == ["/opt/laforge/plugins/libSIEMWebhook.so", "libFileSink.so"])
        #expect(JSONPathComponent.render(config.sinks[1].keyPath) == "audit.sinks[1]")
        #expect(config.sinks[1].mark == SourceMark(file: configFixtures + "/valid.yaml", line: 30, column: 7))
        #expect(config.sinks[1].config == nil)
        #expect(config.sinks[1].configJSON == .object([:]))
    }

    @Test func appliesDefaults() throws {
        let config = try decodeConfig("version: 1\n")
        #expect(config.mode == .development)
        #expect(config.stateDir == ".laforge")
        #expect(config.pluginDir == nil)
        #expect(config.trustedKeys.isEmpty)
        #expect(config.secretBackends.isEmpty)
        #expect(config.sinks.isEmpty)
    }

    @Test func yamlSyntaxErrorCarriesLibyamlProblemAndMark() {
        let error = configError("version: 1\nmode: [development\n")
        #expect(error?.kind == .syntax)
        #expect(
            error?.description
                == "config/laforge.yaml:3:1: did not find expected ',' or ']' (while parsing a flow sequence at line 2, column 7)"
        )
    }

    @Test func wrongTypeNamesExpectedAndGot() {
        let error = configError(
            """
            version: 1
            audit:
              sinks:
                - name: file
                  library: libFileSink.so
                - name: siem
                  library: [libSIEMWebhook.so]
            """)
        #expect(error?.kind == .type)
        #expect(error?.description == "config/laforge.yaml:7:16: audit.sinks[1].library: expected string, got sequence")

        let version = configError("version: \"1\"\n")
        #expect(version?.description == "config/laforge.yaml:1:10: version: expected integer, got string \"1\"")
    }

    @Test func deliveryTimingsAreReadAndChecked() throws {
        let config = try decodeConfig("version: 1\naudit:\n  delivery: { linger_ms: 20, ingest_defer_ms: 0 }\n")
        #expect(config.audit.delivery.lingerMilliseconds == 20)
        #expect(config.audit.delivery.ingestDeferMilliseconds == 0)
        #expect(try decodeConfig("version: 1\n").audit.delivery.ingestDeferMilliseconds == 1000)
        let error = configError("version: 1\naudit:\n  delivery:\n    ingest_defer_ms: -5\n")
        #expect(error?.description.hasPrefix("config/laforge.yaml:4:22: audit.delivery.ingest_defer_ms:") == true, "\(String(describing: error))")
    }

    @Test func unknownKeySuggestsTheClosestKey() {
        let error = configError("version: 1\naudit:\n  sink:\n    - name: file\n")
        #expect(error?.kind == .unknownKey)
        #expect(error?.suggestion == "sinks")
        #expect(error?.description == "config/laforge.yaml:3:3: audit.sink: unknown key; did you mean \"sinks\"?")

        let prefix = configError("version: 1\nsecret:\n")
        #expect(
            prefix?.description == "config/laforge.yaml:2:1: secret: unknown key; did you mean \"secret_backends\"?")

        let far = configError("version: 1\ncolour: blue\n")
        #expect(
            far?.description
                == "config/laforge.yaml:2:1: colour: unknown key; valid keys are: version, mode, state_dir, plugin_dir, trusted_keys, secret_backends, audit, snapshots, approvals, identity, serve"
        )
        #expect(far?.suggestion == nil)
    }

    @Test func missingRequiredKey() {
        let error = configError("version: 1\naudit:\n  sinks:\n    - name: file\n")
        #expect(error?.kind == .missingKey)
        #expect(error?.description == "config/laforge.yaml:4:7: audit.sinks[0]: missing required key \"library\"")

        let version = configError("mode: development\n")
        #expect(version?.description == "config/laforge.yaml:1:1: missing required key \"version\"")
    }

    @Test func refusesUnsupportedVersionBeforeUnknownKeys() {
        let error = configError("version: 2\nnew_section: {}\n")
        #expect(error?.kind == .invalidValue)
        #expect(
            error?.description
                == "config/laforge.yaml:1:10: version: unsupported version 2; this laforge reads version 1")
    }

    @Test func invalidModeSuggestsAChoice() {
        let error = configError("version: 1\nmode: prod\n")
        #expect(error?.kind == .invalidValue)
        #expect(
            error?.description
                == "config/laforge.yaml:2:7: mode: expected one of development, production, got \"prod\"; did you mean production?"
        )
    }

    @Test func productionNeedsTrustedKeys() {
        let error = configError("version: 1\nmode: production\n")
        #expect(error?.kind == .missingKey)
        #expect(
            error?.description
                == "config/laforge.yaml:2:7: trusted_keys: production mode needs at least one trusted key to verify plugin signatures"
        )
    }

    @Test func trustedKeyMustBe32Bytes() {
        let error = configError(
            """
            version: 1
            trusted_keys:
              - name: short
                public_key: c2hvcnQ=
            """)
        #expect(error?.kind == .invalidValue)
        #expect(
            error?.description
                == "config/laforge.yaml:4:17: trusted_keys[0].public_key: an Ed25519 public key is 32 bytes, this one decodes to 5 (give the key, or the NAME+KEYID+BASE64 line `laforge keys generate` writes to PATH.pub)"
        )
    }

    @Test func duplicateMappingKey() {
        let error = configError("version: 1\nstate_dir: a\nmode: development\nstate_dir: b\n")
        #expect(error?.kind == .duplicate)
        #expect(error?.firstMark == SourceMark(file: "config/laforge.yaml", line: 2, column: 1))
        #expect(
            error?.description
                == "config/laforge.yaml:4:1: state_dir: duplicate key \"state_dir\" (first defined at line 2, column 1)"
        )
    }

    @Test func duplicateInstanceNameAcrossSections() {
        let error = configError(
            """
            version: 1
            secret_backends:
              - name: dev
                library: libexample_plugin.so
            audit:
              sinks:
                - name: file
                  library: libFileSink.so
                - name: dev
                  library: libexample_plugin.so
            """)
        #expect(error?.kind == .duplicate)
        #expect(error?.firstMark == SourceMark(file: "config/laforge.yaml", line: 3, column: 11))
        #expect(
            error?.description
                == "config/laforge.yaml:9:13: audit.sinks[1].name: duplicate instance name \"dev\" (first used by secret_backends[0] at config/laforge.yaml:3:11)"
        )
    }

    @Test func invalidInstanceName() {
        let error = configError("version: 1\naudit:\n  sinks:\n    - name: File Sink\n      library: x.so\n")
        #expect(error?.kind == .invalidValue)
        #expect(
            error?.description
                == "config/laforge.yaml:4:13: audit.sinks[0].name: invalid instance name \"File Sink\"; use lowercase letters, digits, _ and -, starting with a letter or digit, at most 64 characters"
        )
    }

    @Test func pluginConfigMustBeAMapping() {
        let error = configError(
            "version: 1\naudit:\n  sinks:\n    - name: file\n      library: x.so\n      config: 12\n")
        #expect(
            error?.description == "config/laforge.yaml:6:15: audit.sinks[0].config: expected mapping, got integer 12")
    }

    @Test func unreadableFileIsAnIOError() {
        let error = configLoadError(path: "/nonexistent/laforge.yaml")
        #expect(error?.kind == .io)
        #expect(
            error?.description
                == "/nonexistent/laforge.yaml: cannot read the configuration file: No such file or directory")
    }

    @Test func shippedConfigurationsDecode() throws {
        let root = CPluginBuilder.packageRoot.path
        let development = try LaForgeConfig.load(path: root + "/config/laforge.yaml", environment: [:])
        #expect(development.mode == .development)
        #expect(development.stateDir == ".laforge")
        #expect(development.sinks.map(\.name) == ["file"])
        #expect(development.sinks.first?.library == "libFileSink.so")
        #expect(development.sinks.first?.configJSON == .object(["path": .string(".laforge/audit/audit.ndjson")]))

        let example = try LaForgeConfig.load(path: root + "/config/examples/example-plugin.yaml", environment: [:])
        #expect(example.secretBackends.map(\.library) == ["libexample_plugin.so"])
        #expect(example.sinks.map(\.library) == ["libexample_plugin.so"])
        #expect(
            example.sinks.first?.config?.secretReferences.map(\.description) == ["${secret:dev/sink_token}"])
    }
}
