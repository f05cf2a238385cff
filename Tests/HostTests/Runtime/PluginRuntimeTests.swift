import Foundation
import PluginABI
import Testing
@testable import LaForgeAudit
@testable import LaForgeCore
@testable import LaForgeGovernance
@testable import LaForgeIdentity
@testable import LaForgeJournal
@testable import LaForgePlugins
@testable import LaForgeSecrets

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
            instanceName: "probe", logger: HostLogger(minimumLevel: .error) { _, _ in }, metrics: runtime.metrics,
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
        #expect(metrics.sample("laforge_test_total", labels: ["name": "sink"])?.value == 5)
        #expect(log.text.contains("registered as a counter and cannot also be a gauge"))
    }
}
