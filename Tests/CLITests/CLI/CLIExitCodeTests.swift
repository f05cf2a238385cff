import Foundation
import Testing
@testable import LaForgeAudit
@testable import LaForgeCore
@testable import LaForgeGovernance
@testable import LaForgeIdentity
@testable import LaForgeJournal
@testable import LaForgePlugins
@testable import LaForgeSecrets
@testable import LaForgeTestSupport

/// The CLI end to end: every bad input gets its message and its documented exit code
/// (0 ok, 1 verification failed, 2 runtime error, 3 config error, 4 plugin load error, 64 usage),
/// and no secret reaches any output.
@Suite struct CLIExitCodeTests {
    func scratch(_ files: [String: String] = [:]) throws -> String {
        let directory = try makePluginDirectory([:])
        for (name, text) in files { try text.write(toFile: directory + "/" + name, atomically: true, encoding: .utf8) }
        return directory
    }

    @Test func theEmbeddedDefaultValidates() throws {
        let result = try CLIRunner.run(
            ["config", "validate", "--config", CPluginBuilder.packageRoot.path + "/config/laforge.yaml", "--plugin-dir", CLIRunner.buildDirectory],
            in: try scratch())
        #expect(result.status == 0, "\(result.output)")
        #expect(result.stdout.contains("audit sink file: filesink"))
    }

    @Test func yamlSyntaxErrorIsExit3WithItsPosition() throws {
        let directory = try scratch(["bad.yaml": "version: 1\naudit:\n  sinks: [\n"])
        let result = try CLIRunner.run(["config", "validate", "--config", directory + "/bad.yaml"])
        #expect(result.status == 3)
        #expect(result.stderr.contains(directory + "/bad.yaml:"))
    }

    @Test func unknownKeyIsExit3WithASuggestion() throws {
        let directory = try scratch(["c.yaml": "version: 1\nmdoe: production\n"])
        let result = try CLIRunner.run(["config", "validate", "--config", directory + "/c.yaml"])
        #expect(result.status == 3)
        #expect(result.stderr.contains("c.yaml:2:1: mdoe: unknown key"))
        #expect(result.stderr.contains("did you mean \"mode\""))
    }

    @Test func wrongTypeAndMissingKeyAreExit3() throws {
        let directory = try scratch([
            "type.yaml": "version: one\n",
            "missing.yaml": "version: 1\naudit:\n  sinks:\n    - name: file\n",
        ])
        let type = try CLIRunner.run(["config", "validate", "--config", directory + "/type.yaml"])
        #expect(type.status == 3)
        #expect(type.stderr.contains("type.yaml:1:10: version: expected integer"))
        let missing = try CLIRunner.run(["config", "validate", "--config", directory + "/missing.yaml"])
        #expect(missing.status == 3)
        #expect(missing.stderr.contains("audit.sinks[0]"))
        #expect(missing.stderr.contains("library"))
    }

    @Test func unsetEnvironmentVariableIsExit3() throws {
        let directory = try scratch(["c.yaml": "version: 1\nstate_dir: ${env:LAFORGE_TEST_SURELY_UNSET}\n"])
        let result = try CLIRunner.run(["config", "validate", "--config", directory + "/c.yaml"])
        #expect(result.status == 3)
        #expect(result.stderr.contains("LAFORGE_TEST_SURELY_UNSET"))
    }

    @Test func aLibraryThatIsNotAPluginIsExit4() throws {
        let result = try CLIRunner.run(["plugins", "inspect", fixtureURL("plugins/not_elf.txt").path])
        #expect(result.status == 4)
        #expect(result.stderr.contains("not an ELF shared object"))
        let directory = try scratch([
            "c.yaml": "version: 1\naudit:\n  sinks:\n    - name: file\n      library: ../libFileSink.so\n"
        ])
        let escape = try CLIRunner.run(["config", "validate", "--config", directory + "/c.yaml", "--plugin-dir", directory])
        #expect(escape.status == 4)
        #expect(escape.stderr.contains("\"..\" is not allowed"))
    }

    @Test func missingArgumentIsAUsageError() throws {
        let result = try CLIRunner.run(["plugins", "inspect"])
        #expect(result.status == 64)
    }

    @Test func inspectPrintsTheDescriptorAsJSON() throws {
        let result = try CLIRunner.run(["plugins", "inspect", "libexample_plugin.so", "--json", "--plugin-dir", CLIRunner.buildDirectory])
        #expect(result.status == 0, "\(result.output)")
        let json = try JSONParser.parse(result.stdout)
        #expect(json["name"] == "example")
        #expect(json["abi"] == "1.0")
        #expect(json["capabilities"] == ["audit_sink", "secret_backend"])
    }

    /// A schema the host would refuse at create is reported by inspect, in text and JSON, exit 4.
    @Test func inspectRefusesAnInvalidSchemaWithExit4() throws {
        let library = try CPluginBuilder.build(sourceURL("bad_schema.c")).path
        for extra in [[], ["--json"]] {
            let result = try CLIRunner.run(["plugins", "inspect", library] + extra)
            #expect(result.status == 4, "\(result.output)")
            #expect(result.stderr.contains("audit_sink: "), "\(result.stderr)")
            #expect(result.stderr.contains("this is a bug in the plugin"), "\(result.stderr)")
        }
        let json = try JSONParser.parse(try CLIRunner.run(["plugins", "inspect", library, "--json"]).stdout)
        #expect(json["capability_details"]?["audit_sink"]?["config_schema_error"]?.stringValue != nil)
        #expect(try CLIRunner.run(["plugins", "inspect", library]).stdout.contains("config schema: INVALID: "))
    }

    /// Inspect shows which optional sink functions a library provides.
    @Test func inspectListsTheOptionalSinkFunctions() throws {
        let readBack = try CPluginBuilder.build(sourceURL("readback_sink.c")).path
        let text = try CLIRunner.run(["plugins", "inspect", readBack])
        #expect(text.status == 0, "\(text.output)")
        #expect(text.stdout.contains("optional functions: "), "\(text.stdout)")
        #expect(text.stdout.contains("read_back"), "\(text.stdout)")
        let json = try JSONParser.parse(try CLIRunner.run(["plugins", "inspect", readBack, "--json"]).stdout)
        #expect(json["capability_details"]?["audit_sink"]?["optional_functions"]?["read_back"] == .bool(true))
        let old = try JSONParser.parse(
            try CLIRunner.run(["plugins", "inspect", CPluginBuilder.build(sourceURL("abi_1_0_sink.c")).path, "--json"]).stdout)
        #expect(old["capability_details"]?["audit_sink"]?["optional_functions"]?["read_back"] == .bool(false))
    }

    @Test func theExamplePluginPassesTheConformanceKit() throws {
        let result = try CLIRunner.run(["plugins", "check", CPluginBuilder.build(sourceURL("examples/example_plugin.c")).path])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.stdout.contains(" 0 failed"))
    }

    @Test func aPluginWithAnUnknownStatusFailsTheConformanceKit() throws {
        let result = try CLIRunner.run(["plugins", "check", CPluginBuilder.build(sourceURL("unknown_status.c")).path])
        #expect(result.status == 1, "\(result.output)")
        #expect(result.stdout.contains("unknown status 42"))
    }

    @Test func keysSignAndVerifyAndTamperDetection() throws {
        let directory = try scratch()
        let library = directory + "/libsink.so"
        try FileManager.default.copyItem(atPath: CPluginBuilder.build(sourceURL("abi_1_0_sink.c")).path, toPath: library)

        let generate = try CLIRunner.run(["keys", "generate", "--out", directory + "/release", "--name", "release-2026"])
        #expect(generate.status == 0, "\(generate.output)")
        let again = try CLIRunner.run(["keys", "generate", "--out", directory + "/release"])
        #expect(again.status == 2)
        #expect(again.stderr.contains("refusing to overwrite"))

        let unsigned = try CLIRunner.run(["plugins", "verify", library, "--key", directory + "/release.pub"])
        #expect(unsigned.status == 1)
        #expect(unsigned.stderr.contains("unsigned"))

        #expect(try CLIRunner.run(["plugins", "sign", library, "--key", directory + "/release"]).status == 0)
        let verified = try CLIRunner.run(["plugins", "verify", library, "--key", directory + "/release.pub"])
        #expect(verified.status == 0, "\(verified.output)")
        #expect(verified.stdout.contains("signed by release-2026+"))

        let handle = try #require(FileHandle(forWritingAtPath: library))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("x".utf8))
        try handle.close()
        let tampered = try CLIRunner.run(["plugins", "verify", library, "--key", directory + "/release.pub"])
        #expect(tampered.status == 1)
        #expect(tampered.stderr.contains("modified after signing"))
    }

    @Test func productionModeRefusesAnUnsignedPluginWithExit4() throws {
        let key = try Ed25519SigningKey.generate(name: "release")
        let directory = try scratch([
            "c.yaml": """
                version: 1
                mode: production
                trusted_keys:
                  - name: release
                    public_key: \(Data(key.verifierKey.publicKey).base64EncodedString())
                audit:
                  sinks:
                    - name: file
                      library: libFileSink.so
                      config: { path: audit.ndjson }
                """
        ])
        let result = try CLIRunner.run(["config", "validate", "--config", directory + "/c.yaml", "--plugin-dir", CLIRunner.buildDirectory])
        #expect(result.status == 4)
        #expect(result.stderr.contains("mode is production and the plugin is unsigned"))
    }

    @Test func secretsNeverReachAnyOutput() throws {
        let secret = "tok-\(UUID().uuidString)"
        let directory = try scratch([
            "secrets.env": "sink_token=\(secret)\n",
            "c.yaml": """
                version: 1
                secret_backends:
                  - name: dev
                    library: libexample_plugin.so
                    config: { secrets_file: secrets.env }
                audit:
                  sinks:
                    - name: example
                      library: libexample_plugin.so
                      config:
                        path: sink.log
                        token: "${secret:dev/sink_token}"
                        fsync: "${secret:dev/sink_token}"
                """,
        ])
        let invalid = try CLIRunner.run(
            ["config", "validate", "--config", "c.yaml", "--plugin-dir", CLIRunner.buildDirectory, "--verbose"], in: directory)
        #expect(invalid.status == 3, "\(invalid.output)")
        #expect(invalid.stderr.contains("audit.sinks[0].config.fsync"))
        #expect(!invalid.output.contains(secret))

        let config = try String(contentsOfFile: directory + "/c.yaml", encoding: .utf8)
        try config.replacingOccurrences(of: "        fsync: \"${secret:dev/sink_token}\"", with: "")
            .write(toFile: directory + "/c.yaml", atomically: true, encoding: .utf8)
        for arguments in [["config", "validate"], ["plugins", "list", "--json"]] {
            let result = try CLIRunner.run(
                arguments + ["--config", "c.yaml", "--plugin-dir", CLIRunner.buildDirectory, "--verbose"], in: directory)
            #expect(result.status == 0, "\(result.output)")
            #expect(!result.output.contains(secret))
        }
    }
}
