import Foundation
import Logging
import Testing
@testable import LaForgeTestSupport

@testable import LaForgeAudit
@testable import LaForgeCore
@testable import LaForgeGovernance
@testable import LaForgeIdentity
@testable import LaForgeJournal
@testable import LaForgePlugins
@testable import LaForgeSecrets

/// `laforge plugins check` on real C plugins: the example must pass without any configuration,
/// and each broken fixture must be reported by the check that names its one broken rule.
@Suite struct ConformanceTests {
    /// Plugin log lines are not what these tests look at; keep the test output quiet.
    static let quietLogger = Logger(minimumLevel: .error) { _, _ in }

    static func check(
        _ source: URL, configs: [PluginCapability: JSONValue] = [:], secretName: String? = nil
    ) throws -> ConformanceReport {
        let library = try CPluginBuilder.build(source)
        return PluginConformanceKit(
            libraryPath: library.path, configs: configs, secretName: secretName, logger: quietLogger
        ).run()
    }

    static let example = CPluginBuilder.packageRoot.appendingPathComponent("examples/example_plugin.c")

    static func results(_ report: ConformanceReport, _ outcome: ConformanceResult.Outcome) -> [ConformanceResult] {
        report.results.filter { $0.outcome == outcome }
    }

    static func result(_ report: ConformanceReport, _ capability: PluginCapability?, _ check: String)
        -> ConformanceResult?
    {
        report.results.first { $0.capability == capability?.rawValue && $0.check == check }
    }

    @Test func examplePluginPassesWithSynthesizedConfig() throws {
        let report = try Self.check(Self.example)
        #expect(report.failed == 0, "\(Self.results(report, .fail))")
        #expect(report.libraryLoaded)
        for capability in [PluginCapability.auditSink, .secretBackend] {  // what the example offers
            #expect(Self.result(report, capability, "create")?.outcome == .pass)
            let config = try #require(Self.result(report, capability, "config"))
            #expect(config.detail.contains("strings without examples are given the path of an empty scratch file"))
            #expect(Self.result(report, capability, "malformed-config")?.outcome == .pass)
            #expect(Self.result(report, capability, "missing-required")?.outcome == .pass)
            #expect(Self.result(report, capability, "lifecycle")?.outcome == .pass)
        }
        for check in [
            "empty-batch", "batch", "idempotent-resend", "flush", "health", "last-error", "independent-instances",
        ] {
            #expect(Self.result(report, .auditSink, check)?.outcome == .pass, "\(check)")
        }
        // The dev secret store declares CONCURRENT; the sink is SERIAL.
        #expect(Self.result(report, .secretBackend, "concurrent")?.outcome == .pass)
        #expect(Self.result(report, .auditSink, "concurrent")?.outcome == .skip)
        #expect(Self.result(report, .secretBackend, "missing-secret")?.outcome == .pass)
        #expect(report.passed + report.failed + report.warnings + report.skipped == report.results.count)
    }

    @Test func namedSecretIsReportedByLengthOnly() throws {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("laforge-conformance-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let secrets = directory.appendingPathComponent("secrets.env")
        try Data("API_TOKEN=hunter2-value\n".utf8).write(to: secrets)

        let report = try Self.check(
            Self.example, configs: [.secretBackend: ["secrets_file": .string(secrets.path)]], secretName: "API_TOKEN")
        let named = try #require(Self.result(report, .secretBackend, "named-secret"))
        #expect(named.outcome == .pass)
        #expect(named.detail.contains("13-byte value"))
        let everything = JSONCanonicalizer.canonicalString(report.jsonValue())
        #expect(!everything.contains("hunter2"))
        #expect(Self.result(report, .secretBackend, "config")?.detail.contains("given configuration") == true)
    }

    @Test func givenConfigRejectedBySchemaIsAFail() throws {
        let report = try Self.check(Self.example, configs: [.auditSink: ["pth": "/tmp/x"]])
        let config = try #require(Self.result(report, .auditSink, "config"))
        #expect(config.outcome == .fail)
        #expect(config.detail.contains("pth"))
        #expect(Self.result(report, .auditSink, "create") == nil)
    }

    @Test func unknownWriteStatusIsAFailNamingTheValue() throws {
        let report = try Self.check(fixtureURL("plugins/unknown_status.c"))
        let batch = try #require(Self.result(report, .auditSink, "batch"))
        #expect(batch.outcome == .fail)
        #expect(batch.detail.contains("unknown status 42"), "\(batch.detail)")
        // A NULL schema is the host's strict `{}` schema: nothing to warn about.
        #expect(Self.result(report, .auditSink, "strict-schema") == nil)
    }

    /// docs/ABI.md: with a NULL schema the host passes only {}, so a plugin may ignore its
    /// configuration; the kit does not fail it for accepting malformed JSON it is never given.
    @Test func aSchemalessPluginThatIgnoresItsConfigPasses() throws {
        let report = try Self.check(fixtureURL("plugins/abi_1_0_sink.c"))
        #expect(Self.result(report, .auditSink, "malformed-config")?.outcome == .skip)
        #expect(report.failed == 0, "\(Self.results(report, .fail))")
    }

    /// A sink that answers RETRY to every well-formed batch never delivers: the kit re-sends as
    /// the host would and fails it; one that stores on a re-send passes.
    @Test func aSinkThatNeverStoresFailsAndOneThatStoresOnResendPasses() throws {
        let directory = try temporaryDirectory("kit-retry")
        func report(failFirst: Int) throws -> ConformanceReport {
            try Self.check(
                fixtureURL("plugins/flaky_sink.c"),
                configs: [.auditSink: ["path": .string(directory + "/\(failFirst).lines"), "fail_first": .number(Double(failFirst))]])
        }
        let never = try report(failFirst: 1000)
        let batch = try #require(Self.result(never, .auditSink, "batch"))
        #expect(batch.outcome == .fail)
        #expect(batch.detail.contains("delivers nothing"), "\(batch.detail)")
        #expect(Self.result(never, .auditSink, "idempotent-resend")?.outcome == .skip)

        let later = try report(failFirst: 2)
        #expect(Self.result(later, .auditSink, "batch")?.outcome == .pass)
        #expect(Self.result(later, .auditSink, "idempotent-resend")?.outcome == .pass)
    }

    /// Kit v2 reads back what it wrote and restarts on the same storage: a sink that changes
    /// bytes, or that is idempotent within one instance only, fails the check that names it.
    @Test func readBackAndRestartCatchWhatWriteAnswersHide() throws {
        let directory = try temporaryDirectory("kit-read-back")
        func report(_ name: String, _ extra: [String: JSONValue]) throws -> ConformanceReport {
            var config: [String: JSONValue] = ["path": .string(directory + "/\(name).records")]
            config.merge(extra) { $1 }
            return try Self.check(fixtureURL("plugins/readback_sink.c"), configs: [.auditSink: .object(config)])
        }
        let honest = try report("honest", [:])
        #expect(Self.result(honest, .auditSink, "read-back")?.outcome == .pass)
        #expect(Self.result(honest, .auditSink, "restart")?.outcome == .pass)
        #expect(honest.failed == 0, "\(Self.results(honest, .fail))")

        let lying = try report("lying", ["tamper_seq": .number(2)])
        let readBack = try #require(Self.result(lying, .auditSink, "read-back"))
        #expect(readBack.outcome == .fail)
        #expect(readBack.detail.contains("entry 2 is read back with other bytes"), "\(readBack.detail)")

        let forgetful = try report("forgetful", ["forget_on_restart": .bool(true)])
        #expect(Self.result(forgetful, .auditSink, "read-back")?.outcome == .pass)
        let restart = try #require(Self.result(forgetful, .auditSink, "restart"))
        #expect(restart.outcome == .fail)
        #expect(restart.detail.contains("times: a re-sent record was stored again"), "\(restart.detail)")
    }

    @Test func failingCreateIsAFailWithItsLastError() throws {
        let report = try Self.check(fixtureURL("plugins/create_fails.c"))
        let create = try #require(Self.result(report, .auditSink, "create"))
        #expect(create.outcome == .fail)
        #expect(create.detail.contains("bad endpoint: connection refused"), "\(create.detail)")
        #expect(Self.result(report, .auditSink, "instance")?.outcome == .skip)
    }

    @Test func notAnELFFileIsALoadFail() throws {
        let path = fixtureURL("plugins/not_elf.txt").path
        let report = PluginConformanceKit(libraryPath: path, logger: Self.quietLogger).run()
        #expect(report.results.count == 1)
        #expect(report.results.first?.check == "load")
        #expect(report.results.first?.outcome == .fail)
        #expect(report.results.first?.detail.contains("not an ELF shared object") == true)
        #expect(!report.libraryLoaded)
        #expect(report.failed == 1)
    }

    @Test func sloppySinkFailsMalformedConfigAndWarnsOnLooseSchema() throws {
        let report = try Self.check(fixtureURL("plugins/sloppy_sink.c"))
        let malformed = try #require(Self.result(report, .auditSink, "malformed-config"))
        #expect(malformed.outcome == .fail)
        #expect(malformed.detail.contains("returned OK"))
        let strict = try #require(Self.result(report, .auditSink, "strict-schema"))
        #expect(strict.outcome == .warn)
        #expect(strict.detail.contains("additionalProperties"))
        // Everything else about it is fine.
        #expect(report.failed == 1, "\(Self.results(report, .fail))")
        #expect(report.warnings == 1, "\(Self.results(report, .warn))")
    }

    @Test func keyOperationsAreRoundTrippedAndMustAuthenticate() throws {
        let report = try Self.check(fixtureURL("plugins/toy_kms.c"))
        #expect(report.failed == 0, "\(Self.results(report, .fail))")
        for check in [
            "round-trip-0", "round-trip-1", "round-trip-4096", "wrong-context", "tampered-ciphertext", "data-key",
            "lifecycle",
        ] {
            #expect(Self.result(report, .secretBackend, check)?.outcome == .pass, "\(check)")
        }
        #expect(Self.result(report, .secretBackend, "missing-secret")?.outcome == .skip)
        #expect(Self.result(report, .secretBackend, "config")?.detail.contains("scratch file") == false)
    }

    @Test func reportJSONCarriesCountsAndResults() throws {
        let report = ConformanceReport(
            library: "/lib/x.so",
            results: [
                ConformanceResult(capability: nil, check: "load", outcome: .pass, detail: "loaded"),
                ConformanceResult(
                    capability: "audit_sink", check: "flush", outcome: .warn, detail: "flush returned RETRY"),
            ])
        let json = report.jsonValue()
        #expect(json["library"] == "/lib/x.so")
        #expect(json["passed"] == 1)
        #expect(json["warnings"] == 1)
        #expect(json["failed"] == 0)
        #expect(json["results"]?[0]?["capability"] == .null)
        #expect(json["results"]?[1]?["check"] == "flush")
        #expect(json["results"]?[1]?["outcome"] == "warn")
    }

    @Test func synthesizerPicksDefaultExampleEnumAndTypeValues() throws {
        let schema: JSONValue = [
            "type": "object",
            "properties": [
                "mode": ["enum": ["fast", "safe"]],
                "region": ["type": "string", "examples": ["eu-west-1"]],
                "retries": ["type": "integer", "minimum": 3],
                "port": ["type": "integer"],
                "verbose": ["type": "boolean"],
                "tags": ["type": "array"],
                "tls": ["$ref": "#/$defs/tls"],
                "optional": ["type": "string"],
            ],
            "required": ["mode", "region", "retries", "port", "verbose", "tags", "tls"],
            "$defs": ["tls": ["type": "object", "properties": ["ca": ["type": "string"]], "required": ["ca"]]],
        ]
        let synthesized = ConformanceConfigSynthesizer(
            schema: schema, capability: .auditSink, scratchDirectory: "/scratch", scratchSuffix: "-2"
        ).synthesize()
        #expect(
            synthesized.config == [
                "mode": "fast", "region": "eu-west-1", "retries": 3, "port": 1, "verbose": false, "tags": [],
                "tls": ["ca": "/scratch/audit_sink-tls-ca-2"],
            ])
        #expect(synthesized.scratchFiles == ["/scratch/audit_sink-tls-ca-2"])
        #expect(try JSONSchema(schema).isValid(synthesized.config))
    }

    @Test(arguments: [
        ("1.0.0", true), ("0.1.0-rc.1+build.5", true), ("1.0", false), ("01.0.0", false), ("v1.0.0", false),
    ])
    func semanticVersions(_ version: String, _ valid: Bool) {
        #expect(PluginConformanceKit.isSemanticVersion(version) == valid)
    }
}
