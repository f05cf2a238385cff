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

/// `laforge plugins check libSIEMWebhook.so` — the conformance kit every plugin's CI runs —
/// against a live receiver, so the batch and re-send checks exercise real deliveries.
@Suite struct SIEMConformanceTests {
    @Test func thePluginPassesTheConformanceKitWithoutWarnings() throws {
        let root = try AuditSandbox()
        let receiver = try ReceiverProcess("webhook_receiver.py", [], in: root.root)
        defer { receiver.stop() }
        let result = try CLIRunner.run([
            "plugins", "check", CLIRunner.buildDirectory + "/libSIEMWebhook.so",
            "--sink-config", #"{"url":"http://127.0.0.1:\#(receiver.port)/audit","format":"json_array"}"#,
        ])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.stdout.contains("0 failed, 0 warnings"), "\(result.output)")
        // The kit's batch and its re-send both reached the receiver.
        #expect(try receiver.requests().filter { $0["status"]?.intValue == 200 }.count >= 2)
    }
}
