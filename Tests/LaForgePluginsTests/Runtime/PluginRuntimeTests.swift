import Foundation
import Logging
import PluginABI
import Testing
@testable import LaForgeAudit
@testable import LaForgeCore
@testable import LaForgeGovernance
@testable import LaForgeIdentity
@testable import LaForgeJournal
@testable import LaForgePlugins
@testable import LaForgeSecrets
@testable import LaForgeTestSupport

/// The config pipeline end to end with the C example plugin: secrets resolved through a
/// secret-backend plugin, schema validation located in the YAML, defaults, and redaction.
@Suite struct PluginRuntimeTests {
    func exampleSetup() throws -> (directory: String, yaml: String) {
        let directory = try makePluginDirectory(["libexample_plugin.so": "examples/example_plugin.c"])
        try "# development secrets\nsink_token=s3cr3t-token-value\n".write(
            toFile: directory + "/secrets.env", atomically: true, encoding: .utf8)
        let yaml = """
            version: 1
            secret_backends:
              - name: dev
                library: libexample_plugin.so
                config:
                  secrets_file: \(directory)/secrets.env
            audit:
              sinks:
                - name: example
                  library: libexample_plugin.so
                  config:
                    path: \(directory)/sink.log
                    token: "${secret:dev/sink_token}"
            """
        return (directory, yaml)
    }

    @Test func resolvesSecretsThroughABackendPluginAndCreatesTheSink() throws {
        let (directory, yaml) = try exampleSetup()
        let log = CapturedLog()
        let runtime = try startRuntime(yaml, pluginDirectory: directory, log: log)
        defer { runtime.close() }
        #expect(runtime.secretBackends.map(\.name) == ["dev"])
        #expect(runtime.sinks.map(\.name) == ["example"])
        #expect(log.text.contains("token configured"))
        #expect(!log.text.contains("s3cr3t-token-value"))
        let secret = try runtime.secrets.resolveSecret("dev/sink_token")
        #expect(secret.unsafeStringValue() == "s3cr3t-token-value")
        #expect("\(secret)" == "<redacted>")

        let records = (0..<3).map { seq in
            AuditRecord(kind: .entry, seq: UInt64(seq), hash: Array(repeating: UInt8(seq + 1), count: 32),
                        prevHash: Array(repeating: UInt8(seq), count: 32), data: Array("{\"seq\":\(seq)}".utf8))
        }
        #expect(try runtime.sinks[0].write(AuditBatch(chainID: "test", records: records)) == .stored)
        let lines = try String(contentsOfFile: directory + "/sink.log", encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 3)
        #expect(lines[2] == "2 " + Array(repeating: UInt8(3), count: 32).hexString)
    }

    @Test func aSchemaViolationPointsAtTheYAMLLineAndHidesSecrets() throws {
        let (directory, yaml) = try exampleSetup()
        let broken = yaml.replacingOccurrences(
            of: "        token: \"${secret:dev/sink_token}\"",
            with: "        token: \"${secret:dev/sink_token}\"\n        fsync: \"yes\"\n        colour: blue")
        do {
            _ = try startRuntime(broken, pluginDirectory: directory)
            Issue.record("an invalid sink config was accepted")
        } catch {
            guard case .config(let errors) = error else { Issue.record("\(error)"); return }
            let text = errors.map(\.description).joined(separator: "\n")
            #expect(text.contains("test.yaml:14:16: audit.sinks[0].config.fsync: expected boolean"))
            #expect(text.contains("audit.sinks[0].config.colour"))
            #expect(!text.contains("s3cr3t-token-value"))
        }
    }

    @Test func anUnknownSecretIsAConfigErrorNamingTheReference() throws {
        let (directory, yaml) = try exampleSetup()
        do {
            _ = try startRuntime(yaml.replacingOccurrences(of: "dev/sink_token", with: "dev/missing"), pluginDirectory: directory)
            Issue.record("a missing secret was accepted")
        } catch {
            guard case .config(let errors) = error else { Issue.record("\(error)"); return }
            #expect(errors[0].description.contains("missing"))
            #expect(errors[0].kind == .interpolation)
        }
    }

    @Test func aSinkCanResolveSecretsThroughTheHostAPI() throws {
        let (directory, yaml) = try exampleSetup()
        let runtime = try startRuntime(yaml, pluginDirectory: directory)
        defer { runtime.close() }
        let context = PluginHostContext(
            instanceName: "probe", logger: Logger(minimumLevel: .error) { _, _ in }, metrics: runtime.metrics,
            secrets: runtime.secrets)
        let table = context.table.pointee
        var buffer = laforge_buffer()
        #expect(table.resolve_secret(table.host_ctx, "dev/sink_token", &buffer) == PluginStatus.ok.code)
        #expect(String(decoding: UnsafeBufferPointer(start: buffer.data, count: buffer.len), as: UTF8.self) == "s3cr3t-token-value")
        table.release_secret(table.host_ctx, &buffer)
        #expect(buffer.data == nil)
        #expect(table.resolve_secret(table.host_ctx, "dev/nope", &buffer) == PluginStatus.notFound.code)
        #expect(buffer.data == nil)
    }

    @Test func metricsCallbacksReachTheRegistryAndKindConflictsAreDropped() throws {
        let log = CapturedLog()
        let metrics = MetricsRegistry(logger: log.logger)
        let context = PluginHostContext(instanceName: "probe", logger: log.logger, metrics: metrics, secrets: nil)
        let table = context.table.pointee
        "sink".withCString { value in
            "name".withCString { name in
                var label = laforge_label(name: name, value: value)
                table.counter_add(table.host_ctx, "laforge_test_total", &label, 1, 2)
                table.counter_add(table.host_ctx, "laforge_test_total", &label, 1, 3)
                table.gauge_set(table.host_ctx, "laforge_test_total", &label, 1, 9)
            }
        }
        #expect(metrics.sample("laforge_test_total", labels: ["name": "sink", "plugin": "probe"])?.value == 5)
        #expect(log.text.contains("registered as a counter and cannot also be a gauge"))
    }

    @Test func aNameUsedWithOtherLabelNamesIsReportedOnceAndDroppedNotACrash() throws {
        let log = CapturedLog()
        let metrics = MetricsRegistry(logger: log.logger)
        metrics.counterAdd("laforge_test_labels_total", labels: ["sink": "a"], 1)
        metrics.counterAdd("laforge_test_labels_total", labels: ["sink": "a", "tenant": "t"], 1)
        metrics.counterAdd("laforge_test_labels_total", labels: [:], 1)
        metrics.counterAdd("laforge_test_labels_total", labels: ["sink": "b"], 2)
        #expect(metrics.sample("laforge_test_labels_total", labels: ["sink": "a"])?.value == 1)
        #expect(metrics.sample("laforge_test_labels_total", labels: ["sink": "b"])?.value == 2)
        #expect(metrics.sample("laforge_test_labels_total", labels: ["sink": "a", "tenant": "t"]) == nil)
        let reports = log.text.components(separatedBy: "registered with the labels [sink]").count - 1
        #expect(reports == 1)
    }

    @Test func pluginMetricsAreNamespacedByInstanceAndReachTheMetricsBackend() throws {
        let backend = TestMetricsBackend.shared
        let log = CapturedLog()
        let metrics = MetricsRegistry(logger: log.logger)
        let first = PluginHostContext(instanceName: "audit-a", logger: log.logger, metrics: metrics, secrets: nil)
        let second = PluginHostContext(instanceName: "audit-b", logger: log.logger, metrics: metrics, secrets: nil)
        for (context, delta) in [(first, 2.0), (second, 5.0)] {
            let table = context.table.pointee
            "forged".withCString { value in
                "plugin".withCString { name in
                    var label = laforge_label(name: name, value: value)
                    table.counter_add(table.host_ctx, "laforge_test_namespaced_total", &label, 1, delta)
                    table.counter_add(table.host_ctx, "laforge_test_namespaced_total", &label, 1, delta)
                }
            }
        }
        #expect(metrics.sample("laforge_test_namespaced_total", labels: ["plugin": "audit-a"])?.value == 4)
        #expect(metrics.sample("laforge_test_namespaced_total", labels: ["plugin": "audit-b"])?.value == 10)
        #expect(backend.counterTotal("laforge_test_namespaced_total", ["plugin": "audit-a"]) == 4)
        #expect(backend.counterTotal("laforge_test_namespaced_total", ["plugin": "audit-b"]) == 10)
        // The plugin's own "plugin" label is replaced and said once per instance, not per sample.
        #expect(log.text.components(separatedBy: "the metric label \"plugin\" is the host's").count - 1 == 2)
    }

    @Test func pluginLogLinesCarryTheInstanceAsMetadata() throws {
        let lines = MetadataCapture()
        let logger = Logger(label: "test") { _ in MetadataCapture.Handler(capture: lines) }
        let context = PluginHostContext(instanceName: "siem-eu", logger: logger, metrics: MetricsRegistry(logger: logger), secrets: nil)
        let table = context.table.pointee
        table.log(table.host_ctx, Int32(LAFORGE_LOG_WARNING.rawValue), "receiver slow")
        table.log(table.host_ctx, 99, "unknown level")
        #expect(lines.all == [
            .init(level: .warning, message: "plugin siem-eu: receiver slow", plugin: "siem-eu"),
            .init(level: .error, message: "plugin siem-eu: unknown level", plugin: "siem-eu"),
        ])
    }
}
