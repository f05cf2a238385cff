import Foundation
import Testing
@testable import LaForgeCore
@testable import LaForgePlugins
@testable import LaForgeTestSupport

/// The default configuration is built into the binary (docs/CONFIG.md, "Which configuration is
/// in force"): the main job runs from a folder outside the checkout, the lookup order holds, and
/// `config show` says what is in force without showing a secret.
@Suite struct EmbeddedDefaultConfigTests {
    @Test func theBuiltInTextIsConfigLaforgeYamlByteForByte() throws {
        let file = try String(contentsOf: CPluginBuilder.packageRoot.appendingPathComponent("config/laforge.yaml"), encoding: .utf8)
        #expect(EmbeddedDefaultConfiguration.text == file, "regenerate Sources/LaForgePlugins/Config/EmbeddedDefaultConfiguration.swift from config/laforge.yaml")
    }

    /// README's main job, from a temporary folder with no configuration file in it.
    @Test func theMainJobRunsOutsideTheCheckout() throws {
        let directory = try makePluginDirectory([:])
        #expect(!FileManager.default.fileExists(atPath: directory + "/config"))
        let show = try CLIRunner.run(["config", "show"], in: directory)
        #expect(show.status == 0, "\(show.output)")
        try #require(show.stdout.hasPrefix("# in force: the built-in default"), "is /etc/laforge/laforge.yaml present? \(show.stdout)")
        for arguments in [
            ["audit", "emit", "--actor", "demo", "--role", "admin", "--action", "schema.change", "--target", "billing"],
            ["verify", "chain"], ["verify", "chain", "--sink", "file"],
        ] {
            let result = try CLIRunner.run(arguments, in: directory)
            #expect(result.status == 0, "\(arguments): \(result.output)")
        }
        #expect(FileManager.default.fileExists(atPath: directory + "/.laforge/audit/audit.ndjson"))
    }

    @Test func theLookupOrderIsOptionEnvironmentEtcBuiltIn() throws {
        let directory = try makePluginDirectory([:])
        let option = directory + "/option.yaml"
        let environment = directory + "/environment.yaml"
        let system = directory + "/etc-laforge.yaml"
        for path in [option, environment, system] { try "version: 1\n".write(toFile: path, atomically: true, encoding: .utf8) }
        #expect(ConfigLocation.resolve(option: option, environment: ["LAFORGE_CONFIG": environment], systemPath: system) == ConfigLocation(origin: .option, path: option))
        #expect(ConfigLocation.resolve(option: nil, environment: ["LAFORGE_CONFIG": environment], systemPath: system) == ConfigLocation(origin: .environment, path: environment))
        #expect(ConfigLocation.resolve(option: nil, environment: ["LAFORGE_CONFIG": ""], systemPath: system) == ConfigLocation(origin: .system, path: system))
        #expect(ConfigLocation.resolve(option: nil, environment: [:], systemPath: directory + "/absent.yaml") == ConfigLocation(origin: .builtIn, path: nil))

        // The same order through the CLI, with config show naming the source.
        let fromEnvironment = try CLIRunner.run(["config", "show", "--json"], environment: ["LAFORGE_CONFIG": environment], in: directory)
        #expect(fromEnvironment.status == 0, "\(fromEnvironment.output)")
        let shown = try JSONParser.parse(fromEnvironment.stdout)
        #expect(shown["origin"] == "$LAFORGE_CONFIG")
        #expect(shown["path"]?.stringValue == environment)
        let fromOption = try CLIRunner.run(["--config", option, "config", "show", "--json"], environment: ["LAFORGE_CONFIG": environment])
        #expect(try JSONParser.parse(fromOption.stdout)["path"]?.stringValue == option)
        let missing = try CLIRunner.run(["config", "show"], environment: ["LAFORGE_CONFIG": directory + "/nope.yaml"])
        #expect(missing.status == 3)
        #expect(missing.stderr.contains("nope.yaml: cannot read the configuration file"), "\(missing.stderr)")
        #expect(missing.stderr.contains("$LAFORGE_CONFIG"), "\(missing.stderr)")
    }

    @Test func configShowAppliesStateDirAndRedactsSecrets() throws {
        let directory = try makePluginDirectory([:])
        let config = directory + "/c.yaml"
        try """
            version: 1
            state_dir: \(directory)/state
            audit:
              sinks:
                - name: pg
                  library: libPostgresAudit.so
                  config:
                    password: ${env:LAFORGE_TEST_SHOW_PASSWORD}
                    dsn_password: ${secret:vault/pg}
                    table: audit_log
            secret_backends:
              - name: vault
                library: libKMSSecrets.so
                config: {provider: aws}
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let result = try CLIRunner.run(
            ["config", "show", "--config", config, "--state-dir", directory + "/override"],
            environment: ["LAFORGE_TEST_SHOW_PASSWORD": "hunter2-show"])
        #expect(result.status == 0, "\(result.output)")
        #expect(!result.output.contains("hunter2-show"))
        #expect(result.stdout.contains("audit.sinks[0].config.password: <redacted>"), "\(result.stdout)")
        #expect(result.stdout.contains("audit.sinks[0].config.dsn_password: ${secret:vault/pg}"), "\(result.stdout)")
        #expect(result.stdout.contains("audit.sinks[0].config.table: audit_log"))
        #expect(result.stdout.contains("state_dir: \(directory)/override"))
        #expect(result.stdout.hasPrefix("# in force: \(config) (from --config)"), "\(result.stdout)")
    }
}
